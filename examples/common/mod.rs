//! What the benchmark examples share.

/// Fields of this process's `/proc/self/status` (`VmRSS:`, `VmHWM:`,
/// `Threads:`, ...), as numbers (kB for the memory ones); 0 for a field
/// that is not there (not Linux).
pub fn proc_status<const N: usize>(names: [&str; N]) -> [u64; N] {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    names.map(|name| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
}
