//! Stamps the commit the binary is built from into `GITTENSOR_BUILD_COMMIT`
//! (`--version`, `/healthz`, `gittensor_build_info`): `git rev-parse HEAD`
//! of the checkout, else the variable of the same name in the build's
//! environment (a build from a tarball), else "unknown".

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=GITTENSOR_BUILD_COMMIT");
    let commit = git(&["rev-parse", "HEAD"]);
    if commit.is_some() {
        // Built again when HEAD moves: HEAD itself (a checkout), the branch
        // it names (a commit), packed refs (a fetch). A worktree's HEAD is
        // in its own git dir, its branches in the common one.
        let dir = git(&["rev-parse", "--git-dir"]).map(PathBuf::from);
        let common = git(&["rev-parse", "--git-common-dir"]).map(PathBuf::from);
        // Only files that exist: a missing one would rerun this every build.
        let watch = |path: PathBuf| {
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        };
        if let Some(dir) = &dir {
            watch(dir.join("HEAD"));
        }
        if let Some(common) = &common {
            watch(common.join("packed-refs"));
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(common.join(branch));
            }
        }
    }
    let commit = commit
        .or_else(|| {
            std::env::var("GITTENSOR_BUILD_COMMIT")
                .ok()
                .filter(|c| !c.is_empty())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=GITTENSOR_BUILD_COMMIT={commit}");
}
