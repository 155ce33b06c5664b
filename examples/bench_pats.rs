//! Benchmark of the PAT phase: a subnet of test axons on 127.0.0.1 asked
//! for their PATs at once, through the bridge, on the binary's runtime.
//! Run through `scripts/bench-dendrite.sh`; figures go to BENCHMARKS.md.
//!
//! ```text
//! bench_pats [--uids 256] [--closed 20] [--late 10] [--answer-ms 1000]
//!            [--timeout-s 12] [--runs 3]
//! ```
//! Every served axon answers after `answer-ms`, except `late` ones that
//! answer after the timeout plus 3 s; `closed` uids point at closed ports.

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::time::Duration;

use gittensor_validator::cancel::Cancel;
use gittensor_validator::dendrite::{Dendrite, DendriteConfig};
use gittensor_validator::metagraph::{AxonInfo, Metagraph, Neuron};
use gittensor_validator::pipeline::{query_pats, EVERY_UID_AT_ONCE};
use gittensor_validator::testkit::testaxon::{Behaviour, TestAxon};
use gittensor_validator::wallet::Hotkey;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// The axons of the benchmark, served by this process until stdin closes;
/// prints the metagraph (uid, hotkey, port per line) once they listen.
fn serve(uids: usize, closed: usize, late: usize, answer: Duration, timeout: Duration) {
    let mut axons = Vec::new();
    let mut closed_ports = Vec::new();
    for uid in 0..uids {
        let hotkey = Hotkey::from_seed([(uid % 251) as u8 + 1; 32]);
        let hk = hotkey.ss58().to_string();
        let port = if uid < closed {
            // Bound and never listening, held until the end: refused at
            // once, and no other server can take the port meanwhile.
            let socket =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            socket
                .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
                .unwrap();
            let port = socket.local_addr().unwrap().as_socket().unwrap().port();
            closed_ports.push(socket);
            port
        } else {
            let behaviour = if uid < closed + late {
                Behaviour::Slow(timeout + Duration::from_secs(3), format!("ghp_late{uid}"))
            } else {
                Behaviour::Slow(answer, format!("ghp_bench{uid}"))
            };
            let axon = TestAxon::start(hotkey, behaviour).unwrap();
            let port = axon.addr().port();
            axons.push(axon);
            port
        };
        println!("{uid} {hk} {port}");
    }
    println!("ready");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop((axons, closed_ports));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let uids = arg(&args, "--uids", 256) as usize;
    let closed = arg(&args, "--closed", 20) as usize;
    let late = arg(&args, "--late", 10) as usize;
    let answer = Duration::from_millis(arg(&args, "--answer-ms", 1000));
    let timeout = Duration::from_secs(arg(&args, "--timeout-s", 12));
    let runs = arg(&args, "--runs", 3);
    if args.iter().any(|a| a == "--serve") {
        return serve(uids, closed, late, answer, timeout);
    }

    // The axons stand for other machines: another process, at the lowest
    // CPU priority, so that what is measured here is this process.
    let mut child = Command::new("nice")
        .args(["-n", "19"])
        .arg(std::env::current_exe().unwrap())
        .args(&args[1..])
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the axons");
    let mut neurons = Vec::new();
    let out = BufReader::new(child.stdout.take().unwrap());
    for line in out.lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        neurons.push(Neuron {
            uid: parts[0].parse().unwrap(),
            hotkey: parts[1].to_string(),
            coldkey: String::new(),
            axon: AxonInfo {
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port: parts[2].parse().unwrap(),
                ip_type: 4,
                ..AxonInfo::default()
            },
            validator_permit: false,
            last_update: 0,
        });
    }
    let metagraph = Metagraph { neurons };
    // As the binary: a multi-thread runtime on the machine's cores.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dendrite = Dendrite::new(
        Hotkey::from_seed([250; 32]),
        DendriteConfig::builder().timeout(timeout).build(),
    );
    println!(
        "PAT phase: {uids} uids ({closed} closed ports, {late} answering after the {}s timeout, \
         the rest after {} ms), concurrency = uids; axons in another process at nice 19",
        timeout.as_secs(),
        answer.as_millis()
    );
    println!(
        "{:>4} {:>9} {:>12} {:>14} {:>9} {:>9} {:>9} {:>11}",
        "run",
        "wall s",
        "wall/timeout",
        "sequential s",
        "seq/wall",
        "answered",
        "timedout",
        "max lag ms"
    );
    for run in 1..=runs {
        let q = rt.block_on(query_pats(
            dendrite.clone(),
            &metagraph,
            EVERY_UID_AT_ONCE,
            Cancel::new(),
        ));
        let s = q.stats;
        let wall = s.wall_ms as f64 / 1000.0;
        let seq = s.sequential_ms as f64 / 1000.0;
        println!(
            "{run:>4} {wall:>9.2} {:>12.3} {seq:>14.1} {:>9.1} {:>9} {:>9} {:>11.2}",
            wall / timeout.as_secs_f64(),
            seq / wall,
            s.answered,
            s.timed_out,
            s.max_event_loop_lag_ms
        );
    }
    rt.shutdown_timeout(Duration::from_millis(100));
    drop(child.stdin.take());
    let _ = child.wait();
}
