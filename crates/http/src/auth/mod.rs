//! Authentication: password hashes, signed tokens, and the extractor that turns a bearer token into
//! the [`Principal`](dvc_domain::Principal) of a request.

mod extractor;
pub mod password;
pub mod token;

pub use extractor::Caller;
pub use token::TokenKeys;
