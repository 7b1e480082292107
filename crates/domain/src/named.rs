//! Closed sets of names stored and exchanged as `snake_case` strings.

/// Declares an enum with its `as_str`, `parse` and the list of all its values, so that the spelling
/// of each value is written once.
macro_rules! named_values {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(raw: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|value| value.as_str() == raw)
            }
        }
    };
}

pub(crate) use named_values;
