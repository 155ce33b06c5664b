//! Commit-reveal weights as bittensor 9.9.0 sends them: the weights are
//! timelock-encrypted to a future round of drand's quicknet beacon, and the
//! chain decrypts and applies them itself once drand publishes that round.
//!
//! # What it follows
//! - The SDK's `commit_reveal_v3_extrinsic` (core/extrinsics/commit_reveal.py)
//!   calls `bittensor_drand.get_encrypted_commit` (1.x, `src/drand.rs`): the
//!   payload is the SCALE encoding of `{hotkey: Vec<u8>, uids: Vec<u16>,
//!   values: Vec<u16>, version_key: u64}` ([`payload`]), encrypted with the
//!   Boneh–Franklin IBE and AES-256-GCM of `tle` to quicknet's public key,
//!   with identity `sha256(round as big-endian u64)`; the reveal round comes
//!   from the block, tempo, reveal period and netuid ([`reveal_round`]).
//! - The ciphertext is written in the layout of the `tle` revision the chain
//!   and bittensor-drand pin (`ideal-lab5/timelock` at `5416406`): `U` (G2,
//!   96 bytes compressed), then `V`, `W`, the AES body and the cipher suite,
//!   each a `Vec<u8>` with a little-endian u64 length. The `timelock` 0.3
//!   crate computes the same ciphertext but stores `V` and `W` as `[u8; 32]`
//!   without their lengths, so [`to_chain_layout`] writes the chain's form.
//!
//! # Out of scope
//! No clock (the reveal round takes `now` as an argument) and no chain: what
//! to read and when to send is `validate`'s. The randomness of each
//! ciphertext comes from the caller's RNG (the OS in `validate`).

use ark_serialize::CanonicalSerialize;
use parity_scale_codec::Encode;
use sha2::{Digest, Sha256};
use timelock::block_ciphers::AESGCMBlockCipherProvider;
use timelock::engines::drand::TinyBLS381;
use timelock::engines::EngineBLS;
use timelock::ibe::fullident::Identity;
use timelock::tlock::{tle, TLECiphertext};

/// The group of drand public keys (G2).
pub type PublicKey = <TinyBLS381 as EngineBLS>::PublicKeyGroup;

/// drand quicknet's public key (compressed G2), as bittensor-drand has it.
pub const QUICKNET_PUBLIC_KEY: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
/// quicknet's genesis time (Unix seconds).
pub const QUICKNET_GENESIS: u64 = 1_692_803_367;
/// quicknet's period, in seconds.
pub const QUICKNET_PERIOD: u64 = 3;
/// Blocks after the first reveal block that the round aims at
/// (bittensor-drand's `SECURITY_BLOCK_OFFSET`).
const SECURITY_BLOCK_OFFSET: u64 = 3;
/// The seconds per block the SDK assumes (`block_time=12.0`).
pub const BLOCK_TIME: f64 = 12.0;
/// The largest commit the chain takes (`MAX_CRV3_COMMIT_SIZE_BYTES`).
pub const MAX_COMMIT_BYTES: usize = 5000;
/// The commit-reveal version bittensor 9.9.0 sends, and the chain's
/// default when it keeps none.
pub const DEFAULT_COMMIT_REVEAL_VERSION: u16 = 4;

/// Why a commit could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitError {
    /// The public key is not a compressed G2 point.
    BadPublicKey,
    /// The encryption failed.
    Encrypt(String),
    /// The commit is over the chain's limit.
    TooLarge(usize),
}

impl std::fmt::Display for CommitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommitError::BadPublicKey => f.write_str("bad drand public key"),
            CommitError::Encrypt(m) => write!(f, "timelock encryption failed: {m}"),
            CommitError::TooLarge(n) => {
                write!(
                    f,
                    "commit of {n} bytes is over the chain's {MAX_COMMIT_BYTES}"
                )
            }
        }
    }
}

impl std::error::Error for CommitError {}

/// What the chain decrypts: subtensor's and bittensor-drand's
/// `WeightsTlockPayload`, field for field.
#[derive(Encode)]
struct WeightsTlockPayload {
    hotkey: Vec<u8>,
    uids: Vec<u16>,
    values: Vec<u16>,
    version_key: u64,
}

/// The SCALE payload of a commit: the hotkey's public key (the chain checks
/// it is the signer's), the u16 list and the version key.
pub fn payload(hotkey: &[u8; 32], uids: &[u16], values: &[u16], version_key: u64) -> Vec<u8> {
    WeightsTlockPayload {
        hotkey: hotkey.to_vec(),
        uids: uids.to_vec(),
        values: values.to_vec(),
        version_key,
    }
    .encode()
}

/// The drand round a commit made at `current_block` is encrypted to:
/// bittensor-drand's `generate_commit` arithmetic, with `now_secs` (Unix
/// time, fraction included) passed in instead of read from the clock. Block
/// arithmetic is integer and saturating; the time arithmetic is `f64`.
pub fn reveal_round(
    tempo: u64,
    current_block: u64,
    netuid: u16,
    reveal_period_epochs: u64,
    block_time: f64,
    now_secs: f64,
) -> u64 {
    let tempo_plus_one = tempo.saturating_add(1);
    let netuid_plus_one = u64::from(netuid) + 1;
    let current_epoch = (current_block + netuid_plus_one) / tempo_plus_one;
    let reveal_epoch = current_epoch + reveal_period_epochs;
    let first_reveal_block = reveal_epoch
        .saturating_mul(tempo_plus_one)
        .saturating_sub(netuid_plus_one);
    let target_block = first_reveal_block.saturating_add(SECURITY_BLOCK_OFFSET);
    let blocks_until = target_block.saturating_sub(current_block);
    #[allow(clippy::cast_precision_loss)]
    let secs_until = blocks_until as f64 * block_time;
    let target_secs = now_secs + secs_until;
    #[allow(clippy::cast_precision_loss)]
    let genesis = QUICKNET_GENESIS as f64;
    #[allow(clippy::cast_precision_loss)]
    let period = QUICKNET_PERIOD as f64;
    // `as u64` saturates, as Rust's cast in bittensor-drand does.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let round = ((target_secs - genesis) / period).floor() as u64;
    round.max(1)
}

/// A public key from its compressed hex.
pub fn public_key(hex: &str) -> Result<PublicKey, CommitError> {
    use ark_serialize::CanonicalDeserialize;
    let bytes = decode_hex(hex).ok_or(CommitError::BadPublicKey)?;
    PublicKey::deserialize_compressed(&bytes[..]).map_err(|_| CommitError::BadPublicKey)
}

/// quicknet's public key.
pub fn quicknet() -> PublicKey {
    // A constant checked by a test: it always decodes.
    public_key(QUICKNET_PUBLIC_KEY).unwrap_or_else(|_| unreachable!("quicknet's key decodes"))
}

/// The identity of a round: `sha256(round as big-endian u64)`, no context.
fn round_identity(round: u64) -> Identity {
    Identity::new(b"", &Sha256::digest(round.to_be_bytes()))
}

/// `payload` encrypted to `round` under `pk`, in the chain's layout.
pub fn encrypt<R>(
    pk: PublicKey,
    round: u64,
    payload: &[u8],
    mut rng: R,
) -> Result<Vec<u8>, CommitError>
where
    R: rand_core::RngCore + rand_core::CryptoRng,
{
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let ct = tle::<TinyBLS381, AESGCMBlockCipherProvider, R>(
        pk,
        key,
        payload,
        round_identity(round),
        rng,
    )
    .map_err(|e| CommitError::Encrypt(format!("{e:?}")))?;
    let commit = to_chain_layout(&ct)?;
    if commit.len() > MAX_COMMIT_BYTES {
        return Err(CommitError::TooLarge(commit.len()));
    }
    Ok(commit)
}

/// The pinned `tle`'s serialization of a ciphertext: `U` compressed, then
/// `V`, `W`, body and cipher suite as `Vec<u8>` (u64 little-endian length
/// and the bytes), as ark-serialize writes a `Vec<u8>`.
pub fn to_chain_layout(ct: &TLECiphertext<TinyBLS381>) -> Result<Vec<u8>, CommitError> {
    let mut out = Vec::with_capacity(260 + ct.body.len());
    ct.header
        .u
        .serialize_compressed(&mut out)
        .map_err(|e| CommitError::Encrypt(e.to_string()))?;
    for part in [
        &ct.header.v[..],
        &ct.header.w[..],
        &ct.body,
        &ct.cipher_suite,
    ] {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
        out.extend_from_slice(part);
    }
    Ok(out)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;
    use ark_serialize::CanonicalDeserialize;
    use rand_core::SeedableRng;
    use timelock::ibe::fullident::Ciphertext;
    use timelock::tlock::tld;

    /// A commit back to its plaintext with a round signature: the chain's
    /// reveal, in Rust (the interop script does it with bittensor-drand).
    fn decrypt(commit: &[u8], sig: <TinyBLS381 as EngineBLS>::SignatureGroup) -> Vec<u8> {
        let mut b = commit;
        let mut take = |n: usize| {
            let (h, t) = b.split_at(n);
            b = t;
            h.to_vec()
        };
        let u = PublicKey::deserialize_compressed(&take(96)[..]).unwrap();
        let mut vec = || {
            let len = u64::from_le_bytes(take(8).try_into().unwrap()) as usize;
            take(len)
        };
        let (v, w, body, cipher_suite) = (vec(), vec(), vec(), vec());
        let ct = TLECiphertext {
            header: Ciphertext {
                u,
                v: v.try_into().unwrap(),
                w: w.try_into().unwrap(),
            },
            body,
            cipher_suite,
        };
        tld::<TinyBLS381, AESGCMBlockCipherProvider>(ct, sig).unwrap()
    }

    #[test]
    fn the_payload_is_scale_of_hotkey_uids_values_version_key() {
        let p = payload(&[0xd4; 32], &[0, 1, 2], &[65535, 32768, 1], 9_009_000);
        let mut expected = vec![0x80];
        expected.extend([0xd4; 32]);
        expected.extend([0x0c, 0, 0, 1, 0, 2, 0]);
        expected.extend([0x0c, 0xff, 0xff, 0x00, 0x80, 0x01, 0x00]);
        expected.extend(9_009_000u64.to_le_bytes());
        assert_eq!(p, expected);
    }

    #[test]
    fn a_commit_decrypts_with_the_rounds_signature_only() {
        let sk = <TinyBLS381 as EngineBLS>::Scalar::from(0x0123_4567_89ab_cdefu64);
        let pk = PublicKey::generator() * sk;
        let round = 20_733_667;
        let plain = payload(&[7; 32], &[0, 5], &[65535, 100], 1000);
        let rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let commit = encrypt(pk, round, &plain, rng).unwrap();
        // The chain's layout: 244 bytes around the payload.
        assert_eq!(commit.len(), 244 + plain.len());
        assert_eq!(&commit[commit.len() - 8..], b"AES_GCM_");
        let sig = round_identity(round).extract::<TinyBLS381>(sk).0;
        assert_eq!(decrypt(&commit, sig), plain);
    }

    #[test]
    fn quicknets_key_decodes() {
        let mut back = Vec::new();
        quicknet().serialize_compressed(&mut back).unwrap();
        assert_eq!(decode_hex(QUICKNET_PUBLIC_KEY).unwrap(), back);
    }
}
