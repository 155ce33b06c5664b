//! The validator's hotkey, loaded from a bittensor wallet.
//!
//! bittensor-wallet 4.x writes a hotkey as one line of JSON at
//! `{wallet.path}/{wallet.name}/hotkeys/{wallet.hotkey}`, with the keys
//! `secretSeed` (`0x` and the 32-byte sr25519 mini-secret), `publicKey`,
//! `accountId`, `privateKey`, `secretPhrase` and `ss58Address`, in any
//! order. The keypair is the mini-secret expanded in Ed25519 mode, as
//! sp-core does; it signs the dendrite's requests (signing context
//! `substrate`) and the extrinsics, so the crate has one key type.
//!
//! An encrypted keyfile (`$NACL`, `$ANSIBLE_VAULT`, or fernet `gAAAAA`) is
//! refused: a validator runs unattended, and bittensor's own validators keep
//! the hotkey unencrypted for that reason.
//!
//! No secret leaves this module: [`Hotkey`]'s `Debug` shows the address
//! only (schnorrkel's own `Debug` would print the secret key), errors name
//! the file and the problem, never a value, and the file's text is zeroed
//! once parsed.

use std::fmt;
use std::path::{Path, PathBuf};

use subxt_signer::sr25519;
use zeroize::Zeroize;

/// The sr25519 hotkey that signs for this validator.
#[derive(Clone)]
pub struct Hotkey {
    keypair: sr25519::Keypair,
    ss58: String,
}

/// Why a hotkey could not be loaded. Every variant names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalletError {
    /// There is no file at the path.
    Missing(PathBuf),
    /// The file could not be read.
    Unreadable(PathBuf, String),
    /// The file is encrypted (bittensor's `$NACL`, vault or fernet format).
    Encrypted(PathBuf),
    /// The file is not a keyfile: the reason says which part.
    Malformed(PathBuf, &'static str),
    /// The key derived from `secretSeed` is not the file's `ss58Address`.
    AddressMismatch(PathBuf),
    /// The file holds an ed25519 key: bittensor signs with sr25519.
    Ed25519(PathBuf),
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletError::Missing(p) => write!(f, "{}: no hotkey file", p.display()),
            WalletError::Unreadable(p, e) => write!(f, "{}: {e}", p.display()),
            WalletError::Encrypted(p) => write!(
                f,
                "{}: the hotkey is encrypted; regenerate it unencrypted \
                 (btcli wallet regen_hotkey, without --use-password) to run unattended",
                p.display()
            ),
            WalletError::Malformed(p, why) => {
                write!(f, "{}: not a hotkey file: {why}", p.display())
            }
            WalletError::Ed25519(p) => write!(
                f,
                "{}: an ed25519 key; validators sign with sr25519: make the hotkey with btcli's default \
                 crypto type (sr25519)",
                p.display()
            ),
            WalletError::AddressMismatch(p) => write!(
                f,
                "{}: secretSeed does not give the file's ss58Address",
                p.display()
            ),
        }
    }
}

impl std::error::Error for WalletError {}

/// The fields of a keyfile that we read. `Debug` is not derived: the
/// struct holds the seed.
#[derive(serde::Deserialize)]
struct KeyFile {
    #[serde(rename = "secretSeed")]
    secret_seed: Option<String>,
    #[serde(rename = "ss58Address")]
    ss58_address: Option<String>,
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        if let Some(s) = self.secret_seed.as_mut() {
            s.zeroize();
        }
    }
}

/// The hotkey file bittensor uses: `{path}/{name}/hotkeys/{hotkey}`.
pub fn hotkey_path(wallet_path: &Path, name: &str, hotkey: &str) -> PathBuf {
    wallet_path.join(name).join("hotkeys").join(hotkey)
}

impl Hotkey {
    /// Loads the hotkey file at `path` and checks that its seed gives its
    /// address.
    pub fn load(path: &Path) -> Result<Hotkey, WalletError> {
        let mut bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WalletError::Missing(path.to_path_buf()))
            }
            Err(e) => return Err(WalletError::Unreadable(path.to_path_buf(), e.to_string())),
        };
        let result = Hotkey::parse(&bytes, path);
        bytes.zeroize();
        result
    }

    fn parse(bytes: &[u8], path: &Path) -> Result<Hotkey, WalletError> {
        let malformed = |why| WalletError::Malformed(path.to_path_buf(), why);
        let text = bytes.trim_ascii_start();
        if [&b"$NACL"[..], b"$ANSIBLE_VAULT", b"gAAAAA"]
            .iter()
            .any(|p| text.starts_with(p))
        {
            return Err(WalletError::Encrypted(path.to_path_buf()));
        }
        // serde's messages can quote a value: say what, not where.
        let file: KeyFile = serde_json::from_slice(text)
            .map_err(|_| malformed("not a json object of string fields"))?;
        let seed_hex = file
            .secret_seed
            .as_deref()
            .ok_or_else(|| malformed("no secretSeed"))?;
        let mut seed = [0u8; 32];
        let decoded = seed_hex
            .strip_prefix("0x")
            .filter(|h| h.len() == 64)
            .map(|h| hex::decode_to_slice(h, &mut seed).is_ok());
        if decoded != Some(true) {
            seed.zeroize();
            return Err(malformed("secretSeed is not 0x and 64 hex digits"));
        }
        let hotkey = Hotkey::from_seed(seed);
        let ed25519 = ed25519_ss58(&seed);
        seed.zeroize();
        match file.ss58_address.as_deref() {
            Some(addr) if addr == hotkey.ss58 => Ok(hotkey),
            Some(addr) if addr == ed25519 => Err(WalletError::Ed25519(path.to_path_buf())),
            Some(_) => Err(WalletError::AddressMismatch(path.to_path_buf())),
            None => Err(malformed("no ss58Address")),
        }
    }

    /// The keypair of a 32-byte mini-secret (Ed25519 expansion, as sp-core).
    pub fn from_seed(seed: [u8; 32]) -> Hotkey {
        // from_secret_key only fails on a seed of the wrong length, which the
        // array type rules out.
        let keypair = sr25519::Keypair::from_secret_key(seed)
            .unwrap_or_else(|_| unreachable!("a 32-byte mini-secret always expands"));
        let ss58 = keypair.public_key().to_account_id().to_string();
        Hotkey { keypair, ss58 }
    }

    /// The SS58 address (prefix 42), as bittensor prints it.
    pub fn ss58(&self) -> &str {
        &self.ss58
    }

    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.keypair.public_key().0
    }

    /// The keypair, to sign extrinsics.
    pub(crate) fn keypair(&self) -> &sr25519::Keypair {
        &self.keypair
    }

    /// An sr25519 signature over `message` with signing context `substrate`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.keypair.sign(message).0
    }
}

impl fmt::Debug for Hotkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hotkey({})", self.ss58)
    }
}

/// Checks an sr25519 signature (context `substrate`) by the holder of
/// `public_key`.
pub fn verify(signature: &[u8; 64], message: &[u8], public_key: &[u8; 32]) -> bool {
    sr25519::verify(
        &sr25519::Signature(*signature),
        message,
        &sr25519::PublicKey(*public_key),
    )
}

/// The public key of an SS58 address, if it is one.
pub fn public_key_of(ss58: &str) -> Option<[u8; 32]> {
    ss58.parse::<subxt::utils::AccountId32>().ok().map(|a| a.0)
}

/// The SS58 address an ed25519 key of this seed has: how a keyfile made
/// with `--crypto-type ed25519` is told apart from a damaged one.
fn ed25519_ss58(seed: &[u8; 32]) -> String {
    let signing = ed25519_zebra::SigningKey::from(*seed);
    let public: [u8; 32] = ed25519_zebra::VerificationKey::from(&signing).into();
    subxt::utils::AccountId32(public).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // A throwaway hotkey made by bittensor-wallet 4.0.0 for these tests.
    const SEED: &str = "0x9416c6b56ade0095aca78f49cb079e3a043206df0e206deac8d1ebeaa6296bc6";
    const SS58: &str = "5FNWemJduAtUaS9ATYGEBMdA8UT8dUCVmuqk2do8LjRGy78t";
    const PUBLIC: &str = "924965bdddec11fc03a7752232efcfd6c3f10245f14648ae97e3220d7117d056";

    fn keyfile(seed: &str, ss58: &str) -> String {
        format!(r#"{{"secretSeed":"{seed}","ss58Address":"{ss58}","publicKey":"0x{PUBLIC}"}}"#)
    }

    #[test]
    fn a_bittensor_keyfile_derives_its_address() {
        let k = Hotkey::parse(keyfile(SEED, SS58).as_bytes(), Path::new("hk")).unwrap();
        assert_eq!(k.ss58(), SS58);
        let public = hex::encode(k.public_key());
        assert_eq!(public, PUBLIC);
        assert_eq!(public_key_of(SS58), Some(k.public_key()));
        let sig = k.sign(b"message");
        assert!(verify(&sig, b"message", &k.public_key()));
        assert!(!verify(&sig, b"other", &k.public_key()));
    }

    #[test]
    fn bad_keyfiles_are_refused_naming_the_file() {
        let other = "5HZD9gqgtYECdwhMvwZrpip5nifo64wwQUPr5JSQ8im85Nwj";
        for (text, says) in [
            ("$NACL\x01\x02".to_string(), "encrypted"),
            ("gAAAAAbc".to_string(), "encrypted"),
            ("{not json".to_string(), "not a json object"),
            (r#"{"ss58Address": "x"}"#.to_string(), "no secretSeed"),
            (keyfile("0x12", SS58), "64 hex digits"),
            (keyfile(&SEED.replace('9', "g"), SS58), "64 hex digits"),
            (keyfile(SEED, other), "does not give"),
            // SEED's ed25519 address, from RFC 8032's reference arithmetic
            // in Python and scalecodec's ss58_encode.
            (
                keyfile(SEED, "5CrXkDUL9UCRD9evHN9igHKT5qpFVEgoiUvhiMhwJX1iS8qq"),
                "an ed25519 key; validators sign with sr25519",
            ),
        ] {
            let e = Hotkey::parse(text.as_bytes(), Path::new("/w/hk")).unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with("/w/hk: ") && msg.contains(says), "{msg}");
            assert!(!msg.contains(&SEED[2..10]), "{msg}");
        }
    }

    #[test]
    fn no_secret_in_debug() {
        let k = Hotkey::parse(keyfile(SEED, SS58).as_bytes(), Path::new("hk")).unwrap();
        let shown = format!("{k:?} {:?}", Some(&k));
        assert_eq!(shown, format!("Hotkey({SS58}) Some(Hotkey({SS58}))"));
    }
}
