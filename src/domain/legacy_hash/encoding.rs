//! The encodings legacy formats use around their digests, and the one comparison they all share.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, STANDARD_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use subtle::ConstantTimeEq;

/// The crypt(3) alphabet ("itoa64"), used by md5-crypt, phpass and Drupal.
pub const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Appends the low `chars` 6-bit groups of `value`, least significant first (crypt's `to64`).
pub fn to64(out: &mut String, mut value: u32, chars: usize) {
    for _ in 0..chars {
        out.push(ITOA64[(value & 0x3f) as usize] as char);
        value >>= 6;
    }
}

/// phpass's `encode64`: little-endian groups of three bytes, a short last group shortened too.
pub fn phpass_encode64(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |v, (i, b)| v | (u32::from(*b) << (8 * i)));
        to64(&mut out, value, chunk.len() + 1);
    }
    out
}

/// Index of a character in the crypt alphabet.
pub fn itoa64_index(c: u8) -> Option<u32> {
    ITOA64.iter().position(|&x| x == c).map(|i| i as u32)
}

/// Base64, padded or not, in the standard or the URL-safe alphabet (a string can only be valid in one of them:
/// they differ in the two characters `+/` and `-_`).
pub fn base64_any(s: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD_ANY: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
    const URL_SAFE_ANY: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
    let s = s.trim();
    STANDARD_ANY.decode(s).or_else(|_| URL_SAFE_ANY.decode(s)).ok()
}

/// passlib's "adapted base64": standard alphabet with '.' for '+', no padding.
pub fn ab64_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(s.replace('.', "+")).ok()
}

/// Hex (either case) or base64, as plain-digest columns come.
pub fn hex_or_base64(s: &str, digest_len: usize) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() == digest_len * 2 {
        if let Ok(bytes) = hex::decode(s) {
            return Some(bytes);
        }
    }
    base64_any(s).filter(|b| b.len() == digest_len)
}

pub fn base64_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phpass_encoding_matches_the_php_reference() {
        // passlib.utils.binary.h64.encode_bytes(md5(b"")), the same encoding as phpass's encode64.
        let md5_of_empty = hex::decode("d41d8cd98f00b204e9800998ecf8427e").unwrap();
        assert_eq!(phpass_encode64(&md5_of_empty), "Ir/XNz6.mGEu.a.agXjEy/");
    }

    #[test]
    fn ab64_and_lenient_base64() {
        assert_eq!(ab64_decode("Pz8.").unwrap(), b"??>");
        assert_eq!(base64_any("YQ==").unwrap(), b"a");
        assert_eq!(base64_any("YQ").unwrap(), b"a");
        assert_eq!(base64_any("-_8").unwrap(), [0xfb, 0xff], "URL-safe");
        assert_eq!(base64_any("+/8=").unwrap(), [0xfb, 0xff], "standard");
        assert_eq!(base64_any("+_8"), None, "one alphabet or the other");
        assert_eq!(hex_or_base64("0cc175b9c0f1b6a831c399e269772661", 16).unwrap()[0], 0x0c);
    }
}
