//! Typed parameters on the wire: `remote_typed_param` (remote/remote_protocol.x) and
//! `admin_typed_param` (admin/admin_protocol.x) share this layout; the C side is
//! `virTypedParameter` (include/libvirt/libvirt-common.h, util/virtypedparam.c).
//!
//! ```text
//! struct typed_param { string field<STRING_MAX>; union switch (int type) {
//!     1 int i; 2 unsigned int ui; 3 hyper l; 4 unsigned hyper ul; 5 double d;
//!     6 int b; 7 string s<STRING_MAX>; } value; }
//! ```
//!
//! The .x files bound `field` only by the 4 MiB string limit; the 80-byte limit
//! (VIR_TYPED_PARAM_FIELD_LENGTH, 79 characters plus NUL) is applied by libvirt when it copies
//! a decoded name into a `virTypedParameter`. `TypedParam::field_fits` makes that check.
use super::{Reader, Writer, Xdr, XdrError, DEFAULT_STRING_MAX};

pub const VIR_TYPED_PARAM_INT: i32 = 1;
pub const VIR_TYPED_PARAM_UINT: i32 = 2;
pub const VIR_TYPED_PARAM_LLONG: i32 = 3;
pub const VIR_TYPED_PARAM_ULLONG: i32 = 4;
pub const VIR_TYPED_PARAM_DOUBLE: i32 = 5;
pub const VIR_TYPED_PARAM_BOOLEAN: i32 = 6;
pub const VIR_TYPED_PARAM_STRING: i32 = 7;

/// Size of `virTypedParameter.field`, including its terminating NUL.
pub const VIR_TYPED_PARAM_FIELD_LENGTH: usize = 80;

/// The value arm of a typed parameter, discriminated by the `VIR_TYPED_PARAM_*` type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedParamValue {
    Int(i32),
    UInt(u32),
    LLong(i64),
    ULLong(u64),
    Double(f64),
    /// Sent as an `int`; any non-zero value decodes as true (C truthiness), true encodes as 1.
    Boolean(bool),
    String(String),
}

impl TypedParamValue {
    /// The `VIR_TYPED_PARAM_*` discriminant.
    pub fn type_code(&self) -> i32 {
        match self {
            TypedParamValue::Int(_) => VIR_TYPED_PARAM_INT,
            TypedParamValue::UInt(_) => VIR_TYPED_PARAM_UINT,
            TypedParamValue::LLong(_) => VIR_TYPED_PARAM_LLONG,
            TypedParamValue::ULLong(_) => VIR_TYPED_PARAM_ULLONG,
            TypedParamValue::Double(_) => VIR_TYPED_PARAM_DOUBLE,
            TypedParamValue::Boolean(_) => VIR_TYPED_PARAM_BOOLEAN,
            TypedParamValue::String(_) => VIR_TYPED_PARAM_STRING,
        }
    }
}

impl Xdr for TypedParamValue {
    const MIN_SIZE: usize = 8;

    fn encode(&self, w: &mut Writer) {
        w.i32(self.type_code());
        match self {
            TypedParamValue::Int(v) => w.i32(*v),
            TypedParamValue::UInt(v) => w.u32(*v),
            TypedParamValue::LLong(v) => w.i64(*v),
            TypedParamValue::ULLong(v) => w.u64(*v),
            TypedParamValue::Double(v) => w.f64(*v),
            TypedParamValue::Boolean(v) => w.i32(i32::from(*v)),
            TypedParamValue::String(v) => w.string(v),
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        Ok(match r.enum_i32()? {
            VIR_TYPED_PARAM_INT => TypedParamValue::Int(r.i32()?),
            VIR_TYPED_PARAM_UINT => TypedParamValue::UInt(r.u32()?),
            VIR_TYPED_PARAM_LLONG => TypedParamValue::LLong(r.i64()?),
            VIR_TYPED_PARAM_ULLONG => TypedParamValue::ULLong(r.u64()?),
            VIR_TYPED_PARAM_DOUBLE => TypedParamValue::Double(r.f64()?),
            VIR_TYPED_PARAM_BOOLEAN => TypedParamValue::Boolean(r.i32()? != 0),
            VIR_TYPED_PARAM_STRING => TypedParamValue::String(r.string(DEFAULT_STRING_MAX)?),
            value => return Err(XdrError::BadDiscriminant { what: "typed parameter type", value }),
        })
    }
}

/// One named, typed value (`remote_typed_param`, `admin_typed_param`).
#[derive(Debug, Clone, PartialEq)]
pub struct TypedParam {
    pub field: String,
    pub value: TypedParamValue,
}

impl TypedParam {
    pub fn new(field: impl Into<String>, value: TypedParamValue) -> Self {
        TypedParam { field: field.into(), value }
    }

    /// Whether the name fits libvirt's `virTypedParameter.field` (at most 79 bytes).
    pub fn field_fits(&self) -> bool {
        self.field.len() < VIR_TYPED_PARAM_FIELD_LENGTH
    }
}

impl Xdr for TypedParam {
    const MIN_SIZE: usize = 4 + TypedParamValue::MIN_SIZE;

    fn encode(&self, w: &mut Writer) {
        w.string(&self.field);
        self.value.encode(w);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        let field = r.string(DEFAULT_STRING_MAX)?;
        let value = TypedParamValue::decode(r)?;
        Ok(TypedParam { field, value })
    }
}
