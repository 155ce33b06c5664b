//! The crate's key handling and test axon as commands, for
//! `scripts/interop-dendrite.sh` to compare them with the real SDK.
//!
//! ```text
//! keytool address KEYFILE              the hotkey file's SS58, as loaded here
//! keytool sign KEYFILE MESSAGE         an sr25519 signature (context substrate), 0x hex
//! keytool verify SS58 MESSAGE SIG      exit 0 when it verifies, else 1
//! keytool axon KEYFILE PAT             serve a test axon on 127.0.0.1; print its port;
//!                                      stop when stdin closes; then print its stats
//! keytool commit SK|quicknet ROUND HOTKEY_HEX UIDS VALUES VERSION_KEY
//!                                      a commit-reveal commit, hex: the payload encrypted
//!                                      to ROUND under the test key SK·G2 (SK big-endian
//!                                      hex) or drand quicknet's key
//! ```

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use gittensor_validator::commit_reveal;
use gittensor_validator::testkit::testaxon::{Behaviour, TestAxon};
use gittensor_validator::wallet::{self, Hotkey};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let load = |p: &str| match Hotkey::load(Path::new(p)) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["address", file] => println!("{}", load(file).ss58()),
        ["sign", file, message] => {
            println!("0x{}", hex::encode(load(file).sign(message.as_bytes())))
        }
        ["verify", ss58, message, sig] => {
            let Some(public) = wallet::public_key_of(ss58) else {
                return ExitCode::from(1);
            };
            let bytes: Option<Vec<u8>> =
                sig.strip_prefix("0x").filter(|h| h.len() == 128).map(|h| {
                    (0..128)
                        .step_by(2)
                        .filter_map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
                        .collect()
                });
            let Some(Ok(sig)) = bytes.map(<[u8; 64]>::try_from) else {
                return ExitCode::from(1);
            };
            if !wallet::verify(&sig, message.as_bytes(), &public) {
                return ExitCode::from(1);
            }
        }
        ["axon", file, pat] => {
            let axon = TestAxon::start(load(file), Behaviour::Pat(pat.to_string()))
                .expect("start a test axon");
            println!("{}", axon.addr().port());
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            let s = axon.stats();
            println!(
                "accepted {} not_verified {} other {}",
                s.accepted, s.not_verified, s.other
            );
        }
        ["commit", key, round, hotkey, uids, values, version_key] => {
            use ark_ec::PrimeGroup;
            use ark_ff::PrimeField;
            use commit_reveal::PublicKey;
            let bytes = |h: &str| -> Vec<u8> {
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
                    .collect()
            };
            let pk = if key == "quicknet" {
                commit_reveal::quicknet()
            } else {
                let sk =
                    <PublicKey as PrimeGroup>::ScalarField::from_be_bytes_mod_order(&bytes(key));
                PublicKey::generator() * sk
            };
            let list = |s: &str| -> Vec<u16> {
                s.split(',')
                    .filter(|x| !x.is_empty())
                    .map(|x| x.parse().expect("a u16"))
                    .collect()
            };
            let hotkey: [u8; 32] = bytes(hotkey).try_into().expect("32-byte hotkey");
            let payload = commit_reveal::payload(
                &hotkey,
                &list(uids),
                &list(values),
                version_key.parse().expect("a u64"),
            );
            let commit = commit_reveal::encrypt(
                pk,
                round.parse().expect("a round"),
                &payload,
                rand_core::OsRng,
            )
            .expect("encrypt");
            println!("{}", hex::encode(commit));
        }
        _ => {
            eprintln!("usage: keytool address|sign|verify|axon|commit ...");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
