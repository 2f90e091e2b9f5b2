//! `xdr_struct!`: a struct and its `Xdr` impl in a few lines (what rpcgen generates from a
//! `struct` in libvirt's .x files).

/// Defines a struct and its `Xdr` impl, fields in wire order. Each field is one of
///
/// ```text
/// name: Type                    // Type: Xdr (u32, i32, u64, i64, f64, bool, [u8; N],
///                               //   String (max 4 MiB), Option<T>, another xdr_struct)
/// name: Type [max LIMIT]        // Type: XdrBounded (String, Vec<T>, Option<String>...)
/// name: Vec<u8> [opaque LIMIT]  // opaque name<LIMIT>
/// ```
///
/// The struct derives `Debug, Clone, PartialEq`; add other derives as attributes.
///
/// ```
/// use virtlite::xdr_struct;
/// xdr_struct! {
///     /// remote_auth_list_ret
///     pub struct AuthListRet { pub types: Vec<i32> [max 20] }
/// }
/// xdr_struct! { pub struct NonnullDomain { pub name: String, pub uuid: [u8; 16], pub id: i32 } }
/// xdr_struct! { pub struct SaslStep { pub nil: i32, pub data: Vec<u8> [opaque 65536] } }
/// xdr_struct! { pub struct Void {} }
/// ```
#[macro_export]
macro_rules! xdr_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty $([$kind:ident $max:expr])? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::xdr::Xdr for $name {
            const MIN_SIZE: usize = 0 $( + $crate::xdr_struct!(@min $ty $(, $kind)?) )*;

            fn encode(&self, w: &mut $crate::xdr::Writer) {
                let _ = &w;
                $( $crate::xdr_struct!(@enc w, self.$field, $ty $(, $kind)?); )*
            }

            fn decode(r: &mut $crate::xdr::Reader<'_>) -> ::core::result::Result<Self, $crate::xdr::XdrError> {
                let _ = &r;
                Ok($name {
                    $( $field: $crate::xdr_struct!(@dec r, $ty $(, $kind $max)?), )*
                })
            }
        }
    };

    (@min $ty:ty) => { <$ty as $crate::xdr::Xdr>::MIN_SIZE };
    (@min $ty:ty, max) => { <$ty as $crate::xdr::XdrBounded>::MIN_SIZE };
    (@min $ty:ty, opaque) => { $crate::xdr::XDR_UNIT };

    (@enc $w:ident, $v:expr, $ty:ty) => { $crate::xdr::Xdr::encode(&$v, $w) };
    (@enc $w:ident, $v:expr, $ty:ty, max) => { $crate::xdr::XdrBounded::encode_bounded(&$v, $w) };
    (@enc $w:ident, $v:expr, $ty:ty, opaque) => { $w.opaque(&$v) };

    (@dec $r:ident, $ty:ty) => { <$ty as $crate::xdr::Xdr>::decode($r)? };
    (@dec $r:ident, $ty:ty, max $max:expr) => {
        <$ty as $crate::xdr::XdrBounded>::decode_bounded($r, $max)?
    };
    (@dec $r:ident, $ty:ty, opaque $max:expr) => { $r.opaque($max)?.to_vec() };
}
