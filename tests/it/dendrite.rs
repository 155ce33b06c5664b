//! The dendrite against test axons on 127.0.0.1 that check requests as
//! bittensor 9.9.0's axon does, and the axon's checks themselves.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gittensor_validator::cancel::Cancel;
use gittensor_validator::dendrite::{
    Dendrite, DendriteConfig, Error, BITTENSOR_VERSION, BODY_HASH,
};
use gittensor_validator::metagraph::Axon;
use gittensor_validator::metagraph::{AxonInfo, Metagraph, Neuron};
use gittensor_validator::pipeline::{query_pats, query_pats_blocking, EVERY_UID_AT_ONCE};
use gittensor_validator::testkit::testaxon::{AxonStats, Behaviour, TestAxon};
use gittensor_validator::token::{Pat, Token};
use gittensor_validator::wallet::Hotkey;

use crate::util::ClosedPort;

fn validator() -> Hotkey {
    Hotkey::from_seed([1; 32])
}

fn miner(i: u8) -> Hotkey {
    Hotkey::from_seed([100 + i; 32])
}

fn dendrite(timeout: Duration) -> Dendrite {
    Dendrite::new(
        validator(),
        DendriteConfig::builder().timeout(timeout).build(),
    )
}

/// One query to an axon behaving as `behaviour`; the dendrite's verdict.
fn check(behaviour: Behaviour, expected: Result<Pat, Error>) -> AxonStats {
    let axon = TestAxon::start(miner(1), behaviour.clone()).unwrap();
    let got = dendrite(Duration::from_secs(5)).query_pat(&axon.axon(), &Cancel::new());
    assert_eq!(got, expected, "{behaviour:?}");
    axon.stats()
}

#[test]
fn the_dendrite_passes_the_axons_checks_and_gets_the_pat() {
    let stats = check(
        Behaviour::Pat("ghp_fromTheAxon".into()),
        Ok(Pat::Valid(Token::new("ghp_fromTheAxon").unwrap())),
    );
    assert_eq!(stats.accepted, 1);
    // Many queries from one dendrite: nonces keep increasing.
    let axon = TestAxon::start(miner(2), Behaviour::Pat("ghp_x".into())).unwrap();
    let d = dendrite(Duration::from_secs(5));
    for _ in 0..20 {
        assert!(d.query_pat(&axon.axon(), &Cancel::new()).is_ok());
    }
    assert_eq!(axon.stats().accepted, 20);
}

#[test]
fn each_failing_axon_gives_no_pat_and_a_reason() {
    check(Behaviour::NoToken, Err(Error::NoToken));
    check(Behaviour::Blacklist, Err(Error::Status(403)));
    check(Behaviour::Error, Err(Error::Status(500)));
    check(Behaviour::Garbage, Err(Error::NotJson));
    // 10 MB against the 64 KiB default limit.
    check(
        Behaviour::Huge(10 * 1024 * 1024),
        Err(Error::BodyTooLarge(64 * 1024)),
    );
}

#[test]
fn a_closed_port_and_an_unserved_axon_fail_at_once() {
    let port = ClosedPort::new();
    let closed = Axon {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: port.port(),
        hotkey: miner(1).ss58().to_string(),
    };
    let timeout = Duration::from_secs(10);
    let started = Instant::now();
    let got = dendrite(timeout).query_pat(&closed, &Cancel::new());
    assert!(matches!(got, Err(Error::Transport(_))), "{got:?}");
    // Refused at once, not given up on at the timeout.
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    for (ip, port) in [(Ipv4Addr::UNSPECIFIED, 8091), (Ipv4Addr::LOCALHOST, 0)] {
        let unserved = Axon {
            ip: IpAddr::V4(ip),
            port,
            hotkey: miner(1).ss58().to_string(),
        };
        let got = dendrite(Duration::from_secs(5)).query_pat(&unserved, &Cancel::new());
        assert_eq!(got, Err(Error::NotServing));
    }
}

#[test]
fn an_axon_slower_than_the_timeout_is_given_up_on_time() {
    // The answer comes after 10 s; the dendrite waits 300 ms.
    let late = Duration::from_secs(10);
    let axon = TestAxon::start(miner(1), Behaviour::Slow(late, "ghp_late".into())).unwrap();
    let started = Instant::now();
    let timeout = Duration::from_millis(300);
    let got = dendrite(timeout).query_pat(&axon.axon(), &Cancel::new());
    assert_eq!(got, Err(Error::Timeout));
    let took = started.elapsed();
    assert!(took >= timeout && took < late, "{took:?}");
}

#[test]
fn the_blocking_pat_phase_answers_as_the_async_one_does() {
    // Scripts and tests score without a runtime: `query_pats_blocking` is
    // their PAT phase, one uid after another, with the async phase's result.
    let good = TestAxon::start(miner(3), Behaviour::Pat("ghp_one".into())).unwrap();
    let refusing = TestAxon::start(miner(4), Behaviour::Blacklist).unwrap();
    let unserved = Axon {
        ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: 0,
        hotkey: miner(5).ss58().to_string(),
    };
    let neuron = |uid: u16, axon: Axon| Neuron {
        uid,
        hotkey: axon.hotkey,
        coldkey: String::new(),
        axon: AxonInfo {
            ip: axon.ip,
            port: axon.port,
            ip_type: 4,
            ..AxonInfo::default()
        },
        validator_permit: false,
        last_update: 0,
    };
    let metagraph = Metagraph {
        neurons: vec![
            neuron(0, good.axon()),
            neuron(1, refusing.axon()),
            neuron(2, unserved),
        ],
    };
    let d = dendrite(Duration::from_secs(5));
    let blocking = query_pats_blocking(&d, &metagraph, &Cancel::new());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let at_once = rt.block_on(query_pats(
        d.clone(),
        &metagraph,
        EVERY_UID_AT_ONCE,
        Cancel::new(),
    ));
    for q in [&blocking, &at_once] {
        let pats: Vec<(u16, Pat)> = q.miners.iter().map(|m| (m.uid, m.pat.clone())).collect();
        assert_eq!(
            pats,
            [
                (0, Pat::Valid(Token::new("ghp_one").unwrap())),
                (1, Pat::Missing),
                (2, Pat::Missing),
            ]
        );
        assert_eq!(
            (q.stats.queried, q.stats.answered, q.stats.failed),
            (2, 1, 2)
        );
    }
    assert_eq!(blocking.errors, at_once.errors);
    assert_eq!(blocking.errors.keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(good.stats().accepted, 2);
}

#[test]
fn cancelling_the_pat_phase_ends_it_without_waiting_for_the_axons() {
    // An axon that takes the connection and never answers, asked with a
    // minute's timeout: only the cancel can end the phase before then.
    let late = Duration::from_secs(60);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let metagraph = Metagraph {
        neurons: vec![Neuron {
            uid: 0,
            hotkey: miner(6).ss58().to_string(),
            coldkey: String::new(),
            axon: AxonInfo {
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port,
                ip_type: 4,
                ..AxonInfo::default()
            },
            validator_permit: false,
            last_update: 0,
        }],
    };
    let cancel = Cancel::new();
    let started = Instant::now();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            // Cancelled once the query is in flight, not before it is sent.
            let held = silent.accept().unwrap();
            cancel.cancel();
            held
        })
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let q = rt.block_on(query_pats(
        dendrite(late),
        &metagraph,
        EVERY_UID_AT_ONCE,
        cancel,
    ));
    let took = started.elapsed();
    let _held = canceller.join().unwrap();
    assert!(took < late, "{took:?}");
    assert_eq!(q.miners[0].pat, Pat::Missing);
    assert!(q.errors[&0].contains("cancel"), "{:?}", q.errors);
    // Not waited for: the blocking thread ends at its own timeout.
    rt.shutdown_background();
}

#[test]
fn the_pat_phase_asks_every_axon_at_once() {
    // Six axons that answer long after the dendrite gives up: one after
    // another, the phase would take six timeouts.
    let timeout = Duration::from_secs(2);
    let axons: Vec<TestAxon> = (0..6)
        .map(|i| {
            TestAxon::start(
                miner(10 + i),
                Behaviour::Slow(Duration::from_secs(60), "ghp_late".into()),
            )
            .unwrap()
        })
        .collect();
    let metagraph = Metagraph {
        neurons: (0u16..)
            .zip(&axons)
            .map(|(uid, a)| {
                let axon = a.axon();
                Neuron {
                    uid,
                    hotkey: axon.hotkey,
                    coldkey: String::new(),
                    axon: AxonInfo {
                        ip: axon.ip,
                        port: axon.port,
                        ip_type: 4,
                        ..AxonInfo::default()
                    },
                    validator_permit: false,
                    last_update: 0,
                }
            })
            .collect(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let q = rt.block_on(query_pats(
        dendrite(timeout),
        &metagraph,
        EVERY_UID_AT_ONCE,
        Cancel::new(),
    ));
    let took = started.elapsed();
    assert_eq!((q.stats.queried, q.stats.timed_out), (6, 6));
    // Each query waited its whole timeout; together, they overlapped.
    assert!(took >= timeout, "{took:?}");
    assert!(
        took < 2 * timeout,
        "{took:?} for six timeouts of {timeout:?}"
    );
}

// ------------------------------------------------- the axon's own checks

/// A request signed by `signer` for `axon_hotkey`, as the SDK builds it,
/// with the nonce and uuid given: to test what the axon refuses.
fn send(
    axon: &TestAxon,
    signer: &Hotkey,
    axon_hotkey: &str,
    nonce: u64,
    uuid: &str,
    tamper: impl Fn(&mut Vec<(&'static str, String)>),
) -> u16 {
    let message = format!("{nonce}.{}.{axon_hotkey}.{uuid}.{BODY_HASH}", signer.ss58());
    let sig: String = signer
        .sign(message.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut headers = vec![
        ("name", "GitPatSynapse".to_string()),
        ("timeout", "12.0".to_string()),
        ("bt_header_dendrite_version", BITTENSOR_VERSION.to_string()),
        ("bt_header_dendrite_nonce", nonce.to_string()),
        ("bt_header_dendrite_uuid", uuid.to_string()),
        ("bt_header_dendrite_hotkey", signer.ss58().to_string()),
        ("bt_header_dendrite_signature", format!("0x{sig}")),
        ("computed_body_hash", BODY_HASH.to_string()),
    ];
    tamper(&mut headers);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = agent.post(format!("http://{}/GitPatSynapse", axon.addr()));
    for (k, v) in &headers {
        req = req.header(*k, v);
    }
    req.send("{}").unwrap().status().as_u16()
}

fn now_ns() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

#[test]
fn the_axon_refuses_replayed_nonces_and_bad_signatures() {
    let me = miner(3);
    let axon = TestAxon::start(me.clone(), Behaviour::Pat("ghp_x".into())).unwrap();
    let v = validator();
    let n = now_ns();
    let none = |_: &mut Vec<(&'static str, String)>| {};
    assert_eq!(send(&axon, &v, me.ss58(), n, "u1", none), 200);
    // The same nonce again, and an older one: replays.
    assert_eq!(send(&axon, &v, me.ss58(), n, "u1", none), 401);
    assert_eq!(send(&axon, &v, me.ss58(), n - 1, "u1", none), 401);
    // A newer one is fine; so is an older one under another uuid.
    assert_eq!(send(&axon, &v, me.ss58(), n + 1, "u1", none), 200);
    assert_eq!(send(&axon, &v, me.ss58(), n - 5, "u2", none), 200);
    // A first nonce older than 4 s + the 12 s timeout is refused; one 4 s
    // inside that window is taken. Both are read off the clock as they are
    // sent: the round trips before them do not age them.
    let stale = now_ns() - 17_000_000_000;
    assert_eq!(send(&axon, &v, me.ss58(), stale, "u3", none), 401);
    let old = now_ns() - 12_000_000_000;
    assert_eq!(send(&axon, &v, me.ss58(), old, "u4", none), 200);
    // Signed for another axon's hotkey.
    assert_eq!(send(&axon, &v, miner(4).ss58(), n + 10, "u5", none), 401);
    // A signature of other bytes, and no signature at all.
    let flip = |h: &mut Vec<(&'static str, String)>| {
        let sig = &mut h[6].1;
        let last = if sig.ends_with('0') { "1" } else { "0" };
        sig.replace_range(sig.len() - 1.., last);
    };
    assert_eq!(send(&axon, &v, me.ss58(), n + 11, "u6", flip), 401);
    let unsigned = |h: &mut Vec<(&'static str, String)>| {
        h.retain(|(k, _)| *k != "bt_header_dendrite_signature");
    };
    assert_eq!(send(&axon, &v, me.ss58(), n + 12, "u7", unsigned), 401);
    // Signed right, but a body hash that is not the synapse's.
    let rehash = |h: &mut Vec<(&'static str, String)>| h[7].1 = "0".repeat(64);
    assert_eq!(send(&axon, &v, me.ss58(), n + 13, "u8", rehash), 401);
    let stats = axon.stats();
    assert_eq!((stats.accepted, stats.not_verified), (4, 7));
}
