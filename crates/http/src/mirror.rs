//! Domain enums as they appear on the wire and in the OpenAPI document.
//!
//! The domain stays free of serde and utoipa; each enum the API exchanges is mirrored here by one
//! macro call that derives both and converts both ways, so that no mirror is written by hand.

/// Declares `$dto`, documented in OpenAPI as `$schema`, with the variants of the domain enum `$domain`
/// (in scope where the macro is called), serialised in `snake_case`.
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $dto:ident as $schema:ident mirrors $domain:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[schema(as = $schema)]
        pub enum $dto {
            $($variant),+
        }

        impl From<$domain> for $dto {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => $dto::$variant),+
                }
            }
        }

        impl From<$dto> for $domain {
            fn from(value: $dto) -> Self {
                match value {
                    $($dto::$variant => $domain::$variant),+
                }
            }
        }
    };
}

pub(crate) use mirror_enum;
