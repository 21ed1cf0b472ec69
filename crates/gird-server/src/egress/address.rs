//! What an IP address is to an outbound request: on the internet, inside (loopback,
//! private and other non-global networks), or nowhere a server can be. The standard
//! library's checks cover part of it; the ranges it lacks (or keeps unstable) are
//! written out with their RFCs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// Globally reachable.
    Public,
    /// Loopback, private, link-local, unique-local, shared (CGNAT), documentation,
    /// benchmarking or reserved: this host or a network behind it.
    Internal,
    /// Unspecified ("this network", `0.0.0.0` reaches this very host on Linux),
    /// multicast or broadcast: no HTTP server is there.
    Unusable,
}

pub fn classify(ip: IpAddr) -> AddressKind {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressKind {
    let [a, b, c, _] = ip.octets();
    if a == 0 || ip.is_multicast() || ip.is_broadcast() {
        return AddressKind::Unusable;
    }
    let internal = ip.is_private()               // 10/8, 172.16/12, 192.168/16 (RFC 1918)
        || ip.is_loopback()                      // 127/8
        || ip.is_link_local()                    // 169.254/16, cloud metadata services
        || (a == 100 && b & 0xc0 == 64)          // 100.64/10 shared address space (RFC 6598)
        || (a == 192 && b == 0 && c == 0)        // 192.0.0/24 IETF protocol assignments
        || ip.is_documentation()                 // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || (a == 198 && b & 0xfe == 18)          // 198.18/15 benchmarking (RFC 2544)
        || a >= 240; // 240/4 reserved
    if internal {
        AddressKind::Internal
    } else {
        AddressKind::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressKind {
    // ::ffff:a.b.c.d reaches the IPv4 address itself.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if ip.is_unspecified() || ip.is_multicast() {
        return AddressKind::Unusable;
    }
    let s = ip.segments();
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // NAT64 (64:ff9b::/96, RFC 6052) and 6to4 (2002::/16, RFC 3056) carry an IPv4
    // address that a gateway delivers to: it is what counts.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return classify_v4(embedded(s[1], s[2]));
    }
    // Only 2000::/3 is global unicast; ::1, ::/96, fc00::/7, fe80::/10, fec0::/10,
    // 100::/64 and 64:ff9b:1::/48 all lie outside it.
    let global_unicast = s[0] & 0xe000 == 0x2000;
    let special = (s[0] == 0x2001 && s[1] == 0)          // 2001::/32 Teredo
        || (s[0] == 0x2001 && s[1] == 2 && s[2] == 0)    // 2001:2::/48 benchmarking
        || (s[0] == 0x2001 && s[1] & 0xfff0 == 0x10)     // 2001:10::/28 ORCHID
        || (s[0] == 0x2001 && s[1] == 0xdb8)             // 2001:db8::/32 documentation
        || (s[0] == 0x3fff && s[1] & 0xf000 == 0); // 3fff::/20 documentation (RFC 9637)
    if global_unicast && !special {
        AddressKind::Public
    } else {
        AddressKind::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddressKind::{Internal, Public, Unusable};

    fn kind(text: &str) -> AddressKind {
        classify(text.parse().unwrap_or_else(|_| panic!("{text}")))
    }

    #[test]
    fn ipv4() {
        for (address, expected) in [
            ("8.8.8.8", Public),
            ("93.184.216.34", Public),
            ("172.15.255.255", Public),
            ("172.32.0.1", Public),
            ("100.63.255.255", Public),
            ("100.128.0.1", Public),
            ("198.17.255.255", Public),
            ("198.20.0.1", Public),
            ("192.0.1.1", Public),
            ("223.255.255.255", Public),
            ("127.0.0.1", Internal),
            ("127.255.255.254", Internal),
            ("10.1.2.3", Internal),
            ("172.16.0.1", Internal),
            ("172.31.255.255", Internal),
            ("192.168.1.1", Internal),
            ("169.254.169.254", Internal),
            ("100.64.0.1", Internal),
            ("100.127.255.255", Internal),
            ("192.0.0.8", Internal),
            ("192.0.2.1", Internal),
            ("198.51.100.7", Internal),
            ("203.0.113.9", Internal),
            ("198.18.0.1", Internal),
            ("198.19.255.255", Internal),
            ("240.0.0.1", Internal),
            ("0.0.0.0", Unusable),
            ("0.1.2.3", Unusable),
            ("224.0.0.1", Unusable),
            ("239.255.255.255", Unusable),
            ("255.255.255.255", Unusable),
        ] {
            assert_eq!(kind(address), expected, "{address}");
        }
    }

    #[test]
    fn ipv6() {
        for (address, expected) in [
            ("2606:4700:4700::1111", Public),
            ("2a00:1450:4001:80b::200e", Public),
            ("2001:4860:4860::8888", Public),
            ("::1", Internal),
            ("::", Unusable),
            ("ff02::1", Unusable),
            ("ff0e::1", Unusable),
            ("fe80::1", Internal),
            ("febf::1", Internal),
            ("fec0::1", Internal),
            ("fc00::1", Internal),
            ("fd12:3456:789a::1", Internal),
            ("2001:db8::1", Internal),
            ("3fff::1", Internal),
            ("2001::1", Internal),
            ("2001:2::1", Internal),
            ("2001:10::1", Internal),
            ("100::1", Internal),
            ("64:ff9b:1::1", Internal),
            ("::7f00:1", Internal),
            ("4000::1", Internal),
        ] {
            assert_eq!(kind(address), expected, "{address}");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_counts_as_the_ipv4_address() {
        for (address, expected) in [
            ("::ffff:127.0.0.1", Internal),
            ("::ffff:7f00:1", Internal),
            ("::ffff:10.0.0.1", Internal),
            ("::ffff:169.254.169.254", Internal),
            ("::ffff:0.0.0.0", Unusable),
            ("::ffff:8.8.8.8", Public),
            ("64:ff9b::7f00:1", Internal),
            ("64:ff9b::a9fe:a9fe", Internal),
            ("64:ff9b::808:808", Public),
            ("2002:7f00:1::1", Internal),
            ("2002:c0a8:101::1", Internal),
            ("2002:808:808::1", Public),
        ] {
            assert_eq!(kind(address), expected, "{address}");
        }
    }
}
