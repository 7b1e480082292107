//! The change feed's vocabulary: which recorded changes integrators learn about, under which event
//! type, and which addresses a webhook may be sent to.

use std::net::IpAddr;

/// The records whose changes the feed publishes. Users, webhooks and reveals stay in the audit trail
/// only: they are the Service Center's own business, not something an integrating system acts on.
const PUBLISHED: &[&str] =
    &["unit", "official", "roster", "grant", "citizen_account", "directive", "support_request", "report_snapshot"];

/// Every audit verb of a published record, and the past tense its event type uses.
const VERBS: &[(&str, &str)] = &[
    ("create", "created"),
    ("update", "updated"),
    ("delete", "deleted"),
    ("deactivate", "deactivated"),
    ("submit", "submitted"),
    ("accept", "accepted"),
    ("return", "returned"),
    ("revoke", "revoked"),
    ("void", "voided"),
    ("comment", "commented"),
];

/// The event type (`grant.created`) an audit action (`grant.create`) is published under, or `None`
/// for a change the feed leaves out.
pub fn event_type(action: &str) -> Option<String> {
    let (entity, verb) = action.split_once('.')?;
    if !PUBLISHED.contains(&entity) {
        return None;
    }
    let past = VERBS.iter().find(|(present, _)| *present == verb)?.1;
    Some(format!("{entity}.{past}"))
}

/// Whether `name` is a type the feed can publish (`grant.created`), for filters given by callers.
pub fn is_event_type(name: &str) -> bool {
    name.split_once('.')
        .is_some_and(|(entity, past)| PUBLISHED.contains(&entity) && VERBS.iter().any(|(_, known)| *known == past))
}

/// Whether a webhook may be sent to `address`: only to the public internet, so that subscriptions
/// cannot be used to probe the province's internal network.
pub fn is_public_address(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // Carrier-grade NAT (100.64.0.0/10) and "this network" (0.0.0.0/8).
                || (a == 100 && (64..128).contains(&b))
                || a == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local (fc00::/7) and link-local (fe80::/10) addresses.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_actions_become_past_tense_types() {
        assert_eq!(event_type("grant.create").as_deref(), Some("grant.created"));
        assert_eq!(event_type("citizen_account.void").as_deref(), Some("citizen_account.voided"));
        assert_eq!(event_type("official.deactivate").as_deref(), Some("official.deactivated"));
        assert_eq!(event_type("citizen_account.reveal"), None);
        assert_eq!(event_type("user.create"), None);
        assert!(is_event_type("roster.returned"));
        assert!(!is_event_type("user.created") && !is_event_type("grant.create") && !is_event_type("grant"));
    }

    #[test]
    fn only_public_addresses_are_allowed() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public_address(private.parse().unwrap()), "{private}");
        }
        for public in ["203.162.4.191", "8.8.8.8", "2001:4860:4860::8888"] {
            assert!(is_public_address(public.parse().unwrap()), "{public}");
        }
    }
}
