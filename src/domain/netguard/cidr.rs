//! Networks written in CIDR notation, and the set of them an operator exempts from the guard.

use super::{Forbidden, canonical, forbidden_reason, prefix_matches};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 network such as `10.0.0.0/8` or `fd00::/8`. A bare address is the network
/// of that one address (`/32` or `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("network `{input}` is not usable: {reason}")]
pub struct CidrError {
    pub input: String,
    pub reason: String,
}

impl Cidr {
    /// Parses `address/prefix-length`. Host bits must be zero (`10.1.0.0/8` is refused, naming
    /// `10.0.0.0/8`): a set host bit is usually a typo for a narrower or different network.
    pub fn parse(input: &str) -> Result<Self, CidrError> {
        let fail = |reason: String| CidrError {
            input: input.chars().take(100).collect(),
            reason,
        };
        let trimmed = input.trim();
        let (addr, prefix) = match trimmed.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (trimmed, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| fail(format!("`{addr}` is not an IPv4 or IPv6 address")))?;
        let width = width(network);
        let prefix = match prefix {
            None => width,
            // `u8::from_str` would accept "+8"; only plain digits are a prefix length.
            Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(fail(format!("prefix length `{p}` is not a number")));
            }
            Some(p) => match p.parse::<u8>() {
                Ok(len) if len <= width => len,
                _ => {
                    return Err(fail(format!(
                        "prefix length {p} is longer than the {width} bits of an {} address",
                        family(network)
                    )));
                }
            },
        };
        let cidr = Self { network, prefix };
        let masked = cidr.masked();
        if masked != network {
            return Err(fail(format!(
                "host bits are set; the network is {masked}/{prefix}"
            )));
        }
        Ok(cidr)
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip`, exactly as given, is in this network. An IPv4 network never contains an
    /// IPv6 address here; [`AllowNetworks::contains`] is the one that looks through IPv6 forms.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_matches(u32::from(ip).into(), u32::from(net).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_matches(u128::from(ip), u128::from(net), 128, self.prefix)
            }
            _ => false,
        }
    }

    /// The network address: `network` with its host bits cleared.
    fn masked(&self) -> IpAddr {
        let host_bits = u32::from(width(self.network) - self.prefix);
        match self.network {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
                IpAddr::V4((u32::from(v4) & mask).into())
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        }
    }
}

fn width(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The networks an operator exempts from the guard, e.g. the private network a TMS shares with
/// Skyhook. Empty by default: nothing internal is reachable unless configured.
///
/// An API key may carry networks of its own (its tenant's TMS); a callback of that tenant may
/// then reach the operator's networks and its own, and no other tenant's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct AllowNetworks(pub Vec<Cidr>);

impl AllowNetworks {
    /// Parses each network, failing on the first that is not one.
    pub fn parse<S: AsRef<str>>(networks: &[S]) -> Result<Self, CidrError> {
        networks
            .iter()
            .map(|n| Cidr::parse(n.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// These networks and `more`, each once, in order.
    pub fn with(&self, more: &AllowNetworks) -> AllowNetworks {
        let mut all = self.0.clone();
        all.extend(more.0.iter().filter(|n| !self.0.contains(n)));
        AllowNetworks(all)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The networks as text (`10.0.0.0/8`), for storage and display.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// Whether `ip` is in an exempt network, either as given or as the IPv4 address it embeds
    /// (so allowing `127.0.0.0/8` also allows `::ffff:127.0.0.1`).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let embedded = canonical(ip);
        self.0
            .iter()
            .any(|net| net.contains(ip) || net.contains(embedded))
    }

    /// Whether a callback may connect to `ip`: `Ok` for public addresses and exempt networks.
    ///
    /// Cloud metadata addresses are refused even inside an exempt network: no TMS lives there,
    /// they hand out credentials, and exempting `169.254.0.0/16` for some appliance should not
    /// quietly open them.
    pub fn check(&self, ip: IpAddr) -> Result<(), Forbidden> {
        match forbidden_reason(ip) {
            None => Ok(()),
            Some(reason @ Forbidden::CloudMetadata(_)) => Err(reason),
            Some(_) if self.contains(ip) => Ok(()),
            Some(reason) => Err(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn allow(nets: &[&str]) -> AllowNetworks {
        AllowNetworks(nets.iter().map(|n| Cidr::parse(n).unwrap()).collect())
    }

    #[test]
    fn a_tenants_networks_join_the_operators_once() {
        let operator = allow(&["10.0.0.0/8"]);
        let tenant = AllowNetworks::parse(&["10.0.0.0/8", "192.168.5.0/24"]).unwrap();
        let both = operator.with(&tenant);
        assert_eq!(both.to_strings(), ["10.0.0.0/8", "192.168.5.0/24"]);
        assert!(both.contains(ip("192.168.5.7")) && !operator.contains(ip("192.168.5.7")));
        let err = AllowNetworks::parse(&["10.0.0.0/8", "10.1.0.0/8"]).unwrap_err();
        assert_eq!(err.input, "10.1.0.0/8");
    }

    #[test]
    fn networks_parse_in_both_families_and_print_back() {
        for (input, printed) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            (" 127.0.0.0/8 ", "127.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("192.168.7.9", "192.168.7.9/32"),
            ("fd00::/8", "fd00::/8"),
            ("2001:DB8:0:0::/64", "2001:db8::/64"),
            ("::/0", "::/0"),
            ("::1", "::1/128"),
        ] {
            let cidr = Cidr::parse(input).unwrap();
            assert_eq!(cidr.to_string(), printed, "{input}");
            assert_eq!(input.parse::<Cidr>(), Ok(cidr));
        }
        let net = Cidr::parse("172.16.0.0/12").unwrap();
        assert_eq!((net.network(), net.prefix()), (ip("172.16.0.0"), 12));
    }

    #[test]
    fn malformed_networks_are_refused_saying_what_is_wrong() {
        for (input, reason) in [
            ("", "`` is not an IPv4 or IPv6 address"),
            ("10.0.0/8", "`10.0.0` is not an IPv4 or IPv6 address"),
            (
                "example.com/24",
                "`example.com` is not an IPv4 or IPv6 address",
            ),
            ("10.0.0.0/", "prefix length `` is not a number"),
            ("10.0.0.0/x", "prefix length `x` is not a number"),
            ("10.0.0.0/+8", "prefix length `+8` is not a number"),
            ("10.0.0.0/8/8", "prefix length `8/8` is not a number"),
            (
                "10.0.0.0/33",
                "prefix length 33 is longer than the 32 bits of an IPv4 address",
            ),
            (
                "10.0.0.0/300",
                "prefix length 300 is longer than the 32 bits of an IPv4 address",
            ),
            (
                "fd00::/129",
                "prefix length 129 is longer than the 128 bits of an IPv6 address",
            ),
            ("10.1.0.0/8", "host bits are set; the network is 10.0.0.0/8"),
            ("fd00::1/8", "host bits are set; the network is fd00::/8"),
        ] {
            let err = Cidr::parse(input).unwrap_err();
            assert_eq!(err.reason, reason, "{input}");
            assert!(
                err.to_string().starts_with(&format!("network `{input}`")),
                "{err}"
            );
        }
    }

    #[test]
    fn networks_contain_their_addresses_and_nothing_else() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.0.0.0")));
        assert!(net.contains(ip("10.255.255.255")));
        assert!(!net.contains(ip("11.0.0.0")));
        assert!(!net.contains(ip("9.255.255.255")));
        assert!(
            !net.contains(ip("::ffff:10.0.0.1")),
            "families are not mixed"
        );
        let host = Cidr::parse("192.168.1.5").unwrap();
        assert!(host.contains(ip("192.168.1.5")));
        assert!(!host.contains(ip("192.168.1.6")));
        let v6 = Cidr::parse("fd00:1234::/32").unwrap();
        assert!(v6.contains(ip("fd00:1234:ffff::1")));
        assert!(!v6.contains(ip("fd00:1235::1")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2606:4700::1")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("255.255.255.255"))
        );
    }

    #[test]
    fn allowed_networks_also_match_ipv6_forms_of_their_ipv4_addresses() {
        let allowed = allow(&["127.0.0.0/8", "64:ff9b:1::/48"]);
        assert!(allowed.contains(ip("127.0.0.1")));
        assert!(allowed.contains(ip("::ffff:127.0.0.1")));
        assert!(allowed.contains(ip("::ffff:7f00:2")));
        assert!(allowed.contains(ip("64:ff9b::127.0.0.1")));
        assert!(allowed.contains(ip("64:ff9b:1::a00:1")));
        assert!(
            !allowed.contains(ip("::1")),
            "IPv6 loopback is not 127.0.0.0/8"
        );
        assert!(!allowed.contains(ip("10.0.0.1")));
        assert!(!AllowNetworks::default().contains(ip("127.0.0.1")));
    }

    #[test]
    fn checks_let_exempt_networks_through_but_never_cloud_metadata() {
        let allowed = allow(&["127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/0"]);
        assert_eq!(allowed.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(allowed.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(allowed.check(ip("169.254.1.1")), Ok(()));
        assert_eq!(allowed.check(ip("10.0.0.1")), Ok(()));
        assert_eq!(
            allowed.check(ip("169.254.169.254")),
            Err(Forbidden::CloudMetadata(ip("169.254.169.254")))
        );
        assert_eq!(
            allowed.check(ip("::1")),
            Err(Forbidden::Loopback(ip("::1")))
        );
        let none = AllowNetworks::default();
        assert_eq!(none.check(ip("8.8.8.8")), Ok(()));
        assert_eq!(
            none.check(ip("::ffff:127.0.0.1")),
            Err(Forbidden::Loopback(ip("127.0.0.1")))
        );
    }

    #[derive(Debug, Deserialize)]
    struct Settings {
        allow_networks: AllowNetworks,
    }

    #[test]
    fn networks_deserialize_from_strings_and_report_bad_ones() {
        let settings: Settings =
            serde_json::from_str(r#"{"allow_networks": ["127.0.0.0/8", "fd00::/8"]}"#).unwrap();
        assert_eq!(settings.allow_networks, allow(&["127.0.0.0/8", "fd00::/8"]));
        let err = serde_json::from_str::<Settings>(r#"{"allow_networks": ["10.1.0.0/8"]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("network `10.1.0.0/8` is not usable: host bits are set"),
            "{err}"
        );
        assert!(serde_json::from_str::<Settings>(r#"{"allow_networks": [8]}"#).is_err());
    }
}
