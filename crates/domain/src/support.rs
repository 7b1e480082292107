//! Support requests (R6): a unit asks the Service Center for help, and they talk it through.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ParseError;
use crate::named::named_values;
use crate::text::{check_length, normalize};

named_values! {
    SupportStatus {
        Open => "open",
        InProgress => "in_progress",
        Resolved => "resolved",
    }
}

impl SupportStatus {}

pub fn parse_subject(raw: &str) -> Result<String, ParseError> {
    let subject = normalize(raw);
    check_length(&subject, 1, 200).map_err(|why| ParseError::new("invalid_subject", format!("a subject {why}")))?;
    Ok(subject)
}

/// A message's text: trimmed and NFC, its line breaks kept.
pub fn parse_message(raw: &str) -> Result<String, ParseError> {
    let message = crate::text::normalize_lines(raw);
    check_length(&message, 1, 10_000).map_err(|why| ParseError::new("invalid_body", format!("a message {why}")))?;
    Ok(message)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportComment {
    pub id: Uuid,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportRequest {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub subject: String,
    pub body: String,
    pub status: SupportStatus,
    pub opened_by: Option<Uuid>,
    pub comments: Vec<SupportComment>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a support request; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SupportChanges {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub status: Option<SupportStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for status in SupportStatus::ALL {
            assert_eq!(SupportStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn messages_keep_their_lines() {
        assert_eq!(parse_message("  dòng 1\ndòng 2  "), Ok("dòng 1\ndòng 2".to_owned()));
        assert!(parse_message("   ").is_err());
        assert!(parse_subject(&"x".repeat(201)).is_err());
    }
}
