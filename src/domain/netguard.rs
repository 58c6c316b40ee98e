//! Which IP addresses a callback may reach: the classification half of the SSRF guard.
//!
//! A subscriber chooses the callback URL, so without a guard Skyhook would POST wherever it is
//! told: to the loopback interface, the private network it runs in, or a cloud metadata
//! endpoint that hands out credentials. [`forbidden_reason`] says why an address is off limits;
//! [`AllowNetworks`] holds the networks an operator exempts (a TMS on the same private network).
//!
//! IPv6 can carry an IPv4 address (`::ffff:127.0.0.1` reaches 127.0.0.1), so every address is
//! first reduced to the IPv4 address it embeds, if any ([`canonical`]), and that is what is
//! classified. Pure: resolving names and refusing connections is `dispatch::guard`'s job.

mod cidr;

pub use cidr::{AllowNetworks, Cidr, CidrError};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address may not be called. Each variant carries the address that was classified:
/// the embedded IPv4 address when the original was an IPv6 form of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// `0.0.0.0` or `::`; Linux connects to it as if it were loopback.
    Unspecified(IpAddr),
    /// `127.0.0.0/8`, `::1`.
    Loopback(IpAddr),
    /// RFC 1918: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private(IpAddr),
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal(IpAddr),
    /// Carrier-grade NAT shared address space, `100.64.0.0/10` (RFC 6598).
    SharedAddressSpace(IpAddr),
    /// IPv6 unique local addresses, `fc00::/7`.
    UniqueLocal(IpAddr),
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast(IpAddr),
    /// `255.255.255.255`.
    Broadcast(IpAddr),
    /// Instance metadata services (AWS, GCP, Azure, Alibaba, ECS); never exempt.
    CloudMetadata(IpAddr),
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation(IpAddr),
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking(IpAddr),
    /// Other special-purpose ranges that no webhook receiver lives in: `0.0.0.0/8`,
    /// `192.0.0.0/24`, `192.88.99.0/24`, `240.0.0.0/4`, local-use NAT64, `2001::/23` (Teredo,
    /// ORCHID, ...) and all IPv6 outside global unicast `2000::/3`.
    Reserved(IpAddr),
}

impl Forbidden {
    /// The address that was classified.
    pub fn addr(&self) -> IpAddr {
        match *self {
            Self::Unspecified(ip)
            | Self::Loopback(ip)
            | Self::Private(ip)
            | Self::LinkLocal(ip)
            | Self::SharedAddressSpace(ip)
            | Self::UniqueLocal(ip)
            | Self::Multicast(ip)
            | Self::Broadcast(ip)
            | Self::CloudMetadata(ip)
            | Self::Documentation(ip)
            | Self::Benchmarking(ip)
            | Self::Reserved(ip) => ip,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Unspecified(_) => "unspecified",
            Self::Loopback(_) => "loopback",
            Self::Private(_) => "private",
            Self::LinkLocal(_) => "link-local",
            Self::SharedAddressSpace(_) => "shared (carrier-grade NAT)",
            Self::UniqueLocal(_) => "unique local",
            Self::Multicast(_) => "multicast",
            Self::Broadcast(_) => "broadcast",
            Self::CloudMetadata(_) => "cloud metadata",
            Self::Documentation(_) => "documentation",
            Self::Benchmarking(_) => "benchmarking",
            Self::Reserved(_) => "reserved",
        }
    }
}

impl fmt::Display for Forbidden {
    /// "loopback address 127.0.0.1".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} address {}", self.kind(), self.addr())
    }
}

/// The IPv4 address `ip` stands for, if it is an IPv6 form of one; otherwise `ip` unchanged.
///
/// Recognised: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d` (deprecated, but
/// stacks still route it), NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::/48`. `::` and
/// `::1` are IPv6's own unspecified and loopback addresses and stay as they are.
pub fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else {
        return ip;
    };
    let segments = v6.segments();
    let octets = v6.octets();
    let v4_at = |i: usize| IpAddr::from([octets[i], octets[i + 1], octets[i + 2], octets[i + 3]]);
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    if segments[..6] == [0; 6] && !v6.is_unspecified() && !v6.is_loopback() {
        return v4_at(12);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_at(12);
    }
    if segments[0] == 0x2002 {
        return v4_at(2);
    }
    ip
}

/// Why `ip` may not be called back, or `None` if it is an ordinary public address.
/// Exemptions are [`AllowNetworks::check`]'s business, not this function's.
pub fn forbidden_reason(ip: IpAddr) -> Option<Forbidden> {
    let ip = canonical(ip);
    let kind = match ip {
        IpAddr::V4(v4) => V4_RANGES
            .iter()
            .find(|(net, len, _)| {
                prefix_matches(u32::from(v4).into(), u32::from(*net).into(), 32, *len)
            })
            .map(|(_, _, kind)| *kind),
        IpAddr::V6(v6) => V6_RANGES
            .iter()
            .find(|(net, len, _)| prefix_matches(u128::from(v6), u128::from(*net), 128, *len))
            .map(|(_, _, kind)| *kind)
            // IANA allocates global unicast from 2000::/3 only; nothing else is reachable.
            .or_else(|| {
                (v6.segments()[0] & 0xe000 != 0x2000).then_some(Forbidden::Reserved as Kind)
            }),
    };
    kind.map(|kind| kind(ip))
}

type Kind = fn(IpAddr) -> Forbidden;

/// Whether the first `len` bits of `a` and `b` (numbers `width` bits wide) agree.
fn prefix_matches(a: u128, b: u128, width: u8, len: u8) -> bool {
    // Shift the host bits out; shifting by the whole width (`/0`) leaves nothing to compare.
    let host_bits = u32::from(width.saturating_sub(len));
    a.checked_shr(host_bits).unwrap_or(0) == b.checked_shr(host_bits).unwrap_or(0)
}

// First match wins, so single addresses come before the ranges that contain them.
const V4_RANGES: &[(Ipv4Addr, u8, Kind)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 32, Forbidden::Unspecified),
    (Ipv4Addr::new(0, 0, 0, 0), 8, Forbidden::Reserved), // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8, Forbidden::Private),
    (
        Ipv4Addr::new(100, 100, 100, 200),
        32,
        Forbidden::CloudMetadata,
    ), // Alibaba Cloud
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        Forbidden::SharedAddressSpace,
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, Forbidden::Loopback),
    // Azure WireServer: a public address, but reachable only from inside Azure, where it
    // serves VM configuration.
    (
        Ipv4Addr::new(168, 63, 129, 16),
        32,
        Forbidden::CloudMetadata,
    ),
    (
        Ipv4Addr::new(169, 254, 169, 254),
        32,
        Forbidden::CloudMetadata,
    ), // AWS, GCP, Azure, OCI
    (
        Ipv4Addr::new(169, 254, 170, 2),
        32,
        Forbidden::CloudMetadata,
    ), // AWS ECS task credentials
    (Ipv4Addr::new(169, 254, 0, 0), 16, Forbidden::LinkLocal),
    (Ipv4Addr::new(172, 16, 0, 0), 12, Forbidden::Private),
    (Ipv4Addr::new(192, 0, 0, 0), 24, Forbidden::Reserved), // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24, Forbidden::Documentation),
    (Ipv4Addr::new(192, 88, 99, 0), 24, Forbidden::Reserved), // retired 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16, Forbidden::Private),
    (Ipv4Addr::new(198, 18, 0, 0), 15, Forbidden::Benchmarking),
    (Ipv4Addr::new(198, 51, 100, 0), 24, Forbidden::Documentation),
    (Ipv4Addr::new(203, 0, 113, 0), 24, Forbidden::Documentation),
    (Ipv4Addr::new(224, 0, 0, 0), 4, Forbidden::Multicast),
    (Ipv4Addr::new(255, 255, 255, 255), 32, Forbidden::Broadcast),
    (Ipv4Addr::new(240, 0, 0, 0), 4, Forbidden::Reserved), // future use
];

// Only what survives `canonical`; ranges outside 2000::/3 not listed fall to `Reserved`.
const V6_RANGES: &[(Ipv6Addr, u8, Kind)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, Forbidden::Unspecified),
    (Ipv6Addr::LOCALHOST, 128, Forbidden::Loopback),
    (
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
        128,
        Forbidden::CloudMetadata,
    ), // AWS
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        Forbidden::Reserved,
    ), // local-use NAT64
    (
        Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0),
        48,
        Forbidden::Benchmarking,
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        Forbidden::Reserved,
    ), // Teredo, ORCHID, ...
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        Forbidden::Documentation,
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        Forbidden::Documentation,
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        Forbidden::UniqueLocal,
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        Forbidden::LinkLocal,
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        Forbidden::Multicast,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn reason(s: &str) -> Option<Forbidden> {
        forbidden_reason(ip(s))
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_reduced_to_them() {
        for (input, expected) in [
            ("::ffff:127.0.0.1", "127.0.0.1"),
            ("::ffff:7f00:1", "127.0.0.1"),
            ("::10.1.2.3", "10.1.2.3"),
            ("64:ff9b::169.254.169.254", "169.254.169.254"),
            ("2002:c0a8:0101::1", "192.168.1.1"),
            ("2002:0808:0808:1234::", "8.8.8.8"),
            ("::", "::"),
            ("::1", "::1"),
            ("2606:4700::1111", "2606:4700::1111"),
            ("64:ff9b:1::a00:1", "64:ff9b:1::a00:1"),
            ("10.0.0.1", "10.0.0.1"),
        ] {
            assert_eq!(canonical(ip(input)), ip(expected), "{input}");
        }
    }

    #[test]
    fn internal_addresses_are_forbidden_with_their_reason() {
        for (input, expected) in [
            ("0.0.0.0", "unspecified address 0.0.0.0"),
            ("0.1.2.3", "reserved address 0.1.2.3"),
            ("127.0.0.1", "loopback address 127.0.0.1"),
            ("127.255.255.254", "loopback address 127.255.255.254"),
            ("10.20.30.40", "private address 10.20.30.40"),
            ("172.16.0.1", "private address 172.16.0.1"),
            ("172.31.255.255", "private address 172.31.255.255"),
            ("192.168.1.1", "private address 192.168.1.1"),
            ("169.254.1.1", "link-local address 169.254.1.1"),
            (
                "100.64.0.1",
                "shared (carrier-grade NAT) address 100.64.0.1",
            ),
            (
                "100.127.255.255",
                "shared (carrier-grade NAT) address 100.127.255.255",
            ),
            ("224.0.0.251", "multicast address 224.0.0.251"),
            ("239.255.255.250", "multicast address 239.255.255.250"),
            ("255.255.255.255", "broadcast address 255.255.255.255"),
            ("240.0.0.1", "reserved address 240.0.0.1"),
            ("192.0.0.8", "reserved address 192.0.0.8"),
            ("192.88.99.1", "reserved address 192.88.99.1"),
            ("192.0.2.10", "documentation address 192.0.2.10"),
            ("198.51.100.7", "documentation address 198.51.100.7"),
            ("203.0.113.99", "documentation address 203.0.113.99"),
            ("198.18.0.1", "benchmarking address 198.18.0.1"),
            ("198.19.255.255", "benchmarking address 198.19.255.255"),
            ("169.254.169.254", "cloud metadata address 169.254.169.254"),
            ("169.254.170.2", "cloud metadata address 169.254.170.2"),
            ("100.100.100.200", "cloud metadata address 100.100.100.200"),
            ("168.63.129.16", "cloud metadata address 168.63.129.16"),
            ("::", "unspecified address ::"),
            ("::1", "loopback address ::1"),
            ("fe80::1", "link-local address fe80::1"),
            ("fc00::1", "unique local address fc00::1"),
            ("fd12:3456::1", "unique local address fd12:3456::1"),
            ("fd00:ec2::254", "cloud metadata address fd00:ec2::254"),
            ("ff02::1", "multicast address ff02::1"),
            ("2001:db8::1", "documentation address 2001:db8::1"),
            ("3fff:abc::1", "documentation address 3fff:abc::1"),
            ("2001:2::1", "benchmarking address 2001:2::1"),
            (
                "2001:0:4136:e378::1",
                "reserved address 2001:0:4136:e378::1",
            ),
            ("64:ff9b:1::a00:1", "reserved address 64:ff9b:1::a00:1"),
            ("100::1", "reserved address 100::1"),
            ("fec0::1", "reserved address fec0::1"),
            ("4000::1", "reserved address 4000::1"),
        ] {
            let found = reason(input).unwrap_or_else(|| panic!("{input} should be forbidden"));
            assert_eq!(found.to_string(), expected, "{input}");
        }
    }

    #[test]
    fn embedded_ipv4_addresses_are_classified_as_what_they_embed() {
        for (input, expected) in [
            ("::ffff:127.0.0.1", Forbidden::Loopback(ip("127.0.0.1"))),
            ("::127.0.0.1", Forbidden::Loopback(ip("127.0.0.1"))),
            (
                "64:ff9b::a9fe:a9fe",
                Forbidden::CloudMetadata(ip("169.254.169.254")),
            ),
            ("2002:0a00:0001::", Forbidden::Private(ip("10.0.0.1"))),
            ("::ffff:0.0.0.0", Forbidden::Unspecified(ip("0.0.0.0"))),
            ("::0.0.0.2", Forbidden::Reserved(ip("0.0.0.2"))),
        ] {
            assert_eq!(reason(input), Some(expected), "{input}");
        }
        assert_eq!(reason("::ffff:8.8.8.8"), None);
        assert_eq!(reason("64:ff9b::808:808"), None);
    }

    #[test]
    fn public_addresses_are_allowed() {
        for input in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:200::1",
            "2c0f:fb50::1",
        ] {
            assert_eq!(reason(input), None, "{input}");
        }
    }
}
