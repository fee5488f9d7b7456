//! Which network a client's address stands for, as sign-in throttles (`identity`) and rate
//! limits (`gateway`) count it: a client that rotates through its addresses is still one.

/// Who an address stands for: an IPv4 address (written as one, even when it came as an
/// IPv4-mapped IPv6 address), or an IPv6 address's /64, which one subscriber usually holds
/// whole: counting each of its addresses apart would let one client rotate past the limit.
pub fn network_of(address: std::net::IpAddr) -> String {
    match address.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The /48 an IPv6 address belongs to (none for IPv4): what one site is usually given, so a
/// client that rotates through its 65,536 /64s is still counted as one.
pub fn site_of(address: std::net::IpAddr) -> Option<String> {
    match address.to_canonical() {
        std::net::IpAddr::V4(_) => None,
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}
