//! SSRF guard: which addresses newswire may connect to.
//!
//! Feed and article URLs come from third parties, so a hostile feed could point newswire at
//! the operator's own network (a metadata service, an admin page on localhost). Every
//! address is classified here; non-public addresses are refused unless they fall inside
//! `fetch.allow_private_networks`. The check runs on the addresses DNS actually returned
//! (through [`GuardedResolver`], the resolver reqwest connects with) so that a name that
//! resolves to a public address at check time and a private one at connect time (DNS
//! rebinding) is still caught; IP-literal hosts never reach a resolver and are checked
//! before the request and on every redirect hop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Unspecified,
    Loopback,
    Private,
    LinkLocal,
    SharedCgnat,
    Multicast,
    Broadcast,
    Reserved,
    Documentation,
    Benchmarking,
    UniqueLocal,
}

impl AddressClass {
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Unspecified => "unspecified",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::SharedCgnat => "carrier-grade NAT",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
            AddressClass::Documentation => "documentation",
            AddressClass::Benchmarking => "benchmarking",
            AddressClass::UniqueLocal => "unique-local",
        }
    }
}

/// Classifies an IP address; `None` means it is a public unicast address.
///
/// Hand-written because std's `is_global` is still unstable and the ipnet/ip crates do not
/// cover CGNAT and the IPv6 forms that embed an IPv4 address.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        return Some(AddressClass::Unspecified);
    }
    if a == 127 {
        return Some(AddressClass::Loopback);
    }
    if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        return Some(AddressClass::Private);
    }
    if a == 169 && b == 254 {
        return Some(AddressClass::LinkLocal);
    }
    if a == 100 && (64..=127).contains(&b) {
        return Some(AddressClass::SharedCgnat);
    }
    if (224..=239).contains(&a) {
        return Some(AddressClass::Multicast);
    }
    if ip == Ipv4Addr::BROADCAST {
        return Some(AddressClass::Broadcast);
    }
    if a >= 240 || (a == 192 && b == 0 && c == 0) {
        return Some(AddressClass::Reserved);
    }
    if (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        return Some(AddressClass::Documentation);
    }
    if a == 198 && (b == 18 || b == 19) {
        return Some(AddressClass::Benchmarking);
    }
    None
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some(AddressClass::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressClass::Loopback);
    }
    if segments[0] & 0xfe00 == 0xfc00 {
        return Some(AddressClass::UniqueLocal);
    }
    // fe80::/10 link-local and the deprecated fec0::/10 site-local.
    if segments[0] & 0xffc0 == 0xfe80 || segments[0] & 0xffc0 == 0xfec0 {
        return Some(AddressClass::LinkLocal);
    }
    if segments[0] & 0xff00 == 0xff00 {
        return Some(AddressClass::Multicast);
    }
    if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        return Some(AddressClass::Documentation);
    }
    if segments[0] == 0x0100 && segments[1] == 0 && segments[2] == 0 && segments[3] == 0 {
        // 100::/64 discard-only.
        return Some(AddressClass::Reserved);
    }
    None
}

/// The IPv4 address carried inside an IPv6 address, for the forms that route to it:
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated), NAT64
/// (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(low);
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// The addresses newswire may connect to: every public address, plus the configured
/// private networks.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed_networks: Vec<IpNet>,
}

/// A refused address, with the reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("address {address} is {} and not in fetch.allow_private_networks", .class.describe())]
pub struct BlockedAddress {
    pub address: IpAddr,
    pub class: AddressClass,
}

impl AddressPolicy {
    pub fn new(allowed_networks: Vec<IpNet>) -> AddressPolicy {
        AddressPolicy { allowed_networks }
    }

    /// `Ok` when newswire may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), BlockedAddress> {
        let Some(class) = classify(ip) else {
            return Ok(());
        };
        // An IPv4-mapped address is the IPv4 address: match it against IPv4 networks too.
        let candidates = match ip {
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => vec![ip, IpAddr::V4(v4)],
                None => vec![ip],
            },
            IpAddr::V4(_) => vec![ip],
        };
        let allowed = candidates.iter().any(|candidate| {
            self.allowed_networks
                .iter()
                .any(|net| net.contains(candidate))
        });
        if allowed {
            Ok(())
        } else {
            Err(BlockedAddress { address: ip, class })
        }
    }

    /// Checks a URL whose host is an IP literal (those never reach the resolver).
    /// Host names pass here; they are checked by [`GuardedResolver`].
    pub fn check_url_host(&self, url: &url::Url) -> Result<(), BlockedAddress> {
        match url.host() {
            Some(url::Host::Ipv4(v4)) => self.check(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => self.check(IpAddr::V6(v6)),
            _ => Ok(()),
        }
    }
}

/// A name whose every address was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{name} resolves only to refused addresses: {}", .refused.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("; "))]
pub struct BlockedName {
    pub name: String,
    pub refused: Vec<BlockedAddress>,
}

/// The DNS resolver reqwest connects through: the system resolver, with refused addresses
/// removed, so that the address connected to is always one that passed the policy.
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<AddressPolicy>) -> GuardedResolver {
        GuardedResolver { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut allowed = Vec::new();
            let mut refused = Vec::new();
            for addr in resolved {
                match policy.check(addr.ip()) {
                    Ok(()) => allowed.push(addr),
                    Err(blocked) => refused.push(blocked),
                }
            }
            if allowed.is_empty() && !refused.is_empty() {
                return Err(Box::new(BlockedName {
                    name: host,
                    refused,
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<AddressClass> {
        classify(text.parse().unwrap())
    }

    #[test]
    fn address_classification_table() {
        let cases: &[(&str, Option<AddressClass>)] = &[
            ("93.184.216.34", None),
            ("8.8.8.8", None),
            ("0.0.0.0", Some(AddressClass::Unspecified)),
            ("127.0.0.1", Some(AddressClass::Loopback)),
            ("127.0.0.2", Some(AddressClass::Loopback)),
            ("10.1.2.3", Some(AddressClass::Private)),
            ("172.16.0.1", Some(AddressClass::Private)),
            ("172.31.255.255", Some(AddressClass::Private)),
            ("172.32.0.1", None),
            ("192.168.1.1", Some(AddressClass::Private)),
            ("169.254.169.254", Some(AddressClass::LinkLocal)),
            ("100.64.0.1", Some(AddressClass::SharedCgnat)),
            ("100.127.255.254", Some(AddressClass::SharedCgnat)),
            ("100.128.0.1", None),
            ("224.0.0.1", Some(AddressClass::Multicast)),
            ("255.255.255.255", Some(AddressClass::Broadcast)),
            ("240.0.0.1", Some(AddressClass::Reserved)),
            ("192.0.2.1", Some(AddressClass::Documentation)),
            ("198.18.0.1", Some(AddressClass::Benchmarking)),
            ("::", Some(AddressClass::Unspecified)),
            ("::1", Some(AddressClass::Loopback)),
            ("fc00::1", Some(AddressClass::UniqueLocal)),
            ("fd12:3456::1", Some(AddressClass::UniqueLocal)),
            ("fe80::1", Some(AddressClass::LinkLocal)),
            ("ff02::1", Some(AddressClass::Multicast)),
            ("2001:db8::1", Some(AddressClass::Documentation)),
            ("2606:4700::1111", None),
            ("::ffff:127.0.0.1", Some(AddressClass::Loopback)),
            ("::ffff:10.0.0.1", Some(AddressClass::Private)),
            ("::ffff:8.8.8.8", None),
            ("::ffff:169.254.169.254", Some(AddressClass::LinkLocal)),
            ("::10.0.0.1", Some(AddressClass::Private)),
            ("64:ff9b::a00:1", Some(AddressClass::Private)),
            ("2002:7f00:1::1", Some(AddressClass::Loopback)),
            ("2002:0808:0808::1", None),
        ];
        for (text, expected) in cases {
            assert_eq!(class(text), *expected, "{text}");
        }
    }

    #[test]
    fn allowlist_admits_only_its_networks() {
        let policy = AddressPolicy::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(policy.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        let refused = policy.check("127.0.0.2".parse().unwrap()).unwrap_err();
        assert_eq!(refused.class, AddressClass::Loopback);
        assert!(refused.to_string().contains("127.0.0.2"), "{refused}");
        assert!(policy.check("10.0.0.1".parse().unwrap()).is_err());
        assert!(policy.check("8.8.8.8".parse().unwrap()).is_ok());
    }

    #[test]
    fn ip_literal_urls_are_checked_before_connecting() {
        let policy = AddressPolicy::default();
        let url = url::Url::parse("http://[::ffff:192.168.0.1]:8080/x").unwrap();
        assert!(policy.check_url_host(&url).is_err());
        let url = url::Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        assert!(policy.check_url_host(&url).is_err());
        let url = url::Url::parse("http://example.org/").unwrap();
        assert!(policy.check_url_host(&url).is_ok());
    }
}
