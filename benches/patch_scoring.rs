//! CPU cost of scoring patches (SCORING.md §7): the line walk with its
//! comment and typo checks, over a corpus of realistic diffs.
//! Run: `scripts/bench-cpu.sh` (or `cargo bench --bench patch_scoring`).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use gittensor_validator::scoring::files::{non_scoreable, score_file, FileChange};
use gittensor_validator::scoring::LanguageWeights;

/// A small deterministic generator, so every run scores the same corpus.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// 300 files of 10 to 400 diff lines in six languages: code, comments,
/// blank lines, context, typo fixes, renames and hunk headers.
fn corpus() -> Vec<FileChange> {
    let mut rng = Lcg(42);
    let exts = ["rs", "py", "ts", "go", "md", "cpp"];
    (0..300)
        .map(|f| {
            let ext = exts[f % exts.len()];
            let lines = 10 + rng.next(390) as usize;
            let mut patch = format!("@@ -{0},12 +{0},{1} @@ fn section_{f}() {{\n", f * 10, lines);
            let mut changes = 0;
            for i in 0..lines {
                let line = match rng.next(12) {
                    0 => "+    // Explain the invariant the next block relies on.".to_string(),
                    1 => "+# configuration for the build".to_string(),
                    2 => "+".to_string(),
                    3 => format!("     let unchanged_{i} = context(&state);"),
                    4 => format!("-    let recieve_{i} = channel.recieve();\n+    let receive_{i} = channel.receive();"),
                    5 => format!("-    old_function_name_{i}(alpha, beta, gamma);\n+    new_helper(alpha, beta, gamma, delta, {i});"),
                    6 => "+    \"\"\"Docstring line of a Python function.\"\"\"".to_string(),
                    _ => format!("+    let value_{i} = compute_{i}(&mut state, input.get({i}).copied().unwrap_or_default())?;"),
                };
                changes += line.matches('\n').count() + 1;
                patch.push_str(&line);
                patch.push('\n');
            }
            FileChange { filename: format!("src/module_{f}.{ext}"), changes: changes as i64, patch: Some(patch), ..FileChange::default() }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files
        .iter()
        .map(|f| f.patch.as_ref().map_or(0, String::len))
        .sum();
    let lines: usize = files
        .iter()
        .map(|f| f.patch.as_ref().map_or(0, |p| p.lines().count()))
        .sum();
    let languages = LanguageWeights::from_entries([
        ("rs", 1.5),
        ("py", 1.2),
        ("ts", 1.0),
        ("go", 1.3),
        ("md", 0.1),
    ]);

    let mut g = c.benchmark_group("patch_scoring_bytes");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("score_file", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| score_file(black_box(f), &languages).score)
                .sum::<f64>()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("patch_scoring_lines");
    g.throughput(Throughput::Elements(lines as u64));
    g.bench_function("non_scoreable", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| non_scoreable(black_box(f.patch.as_deref()), f.changes, "rs"))
                .sum::<i64>()
        })
    });
    g.finish();
    println!(
        "corpus: {} files, {} bytes, {} lines",
        files.len(),
        bytes,
        lines
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
