//! The node image, built locally from the running `dpgnet` binary: nothing is
//! pulled (this machine has no registry).
//!
//! The build context is a tar archive made in-process: a `FROM scratch`
//! Dockerfile, the binary at `/dpgnet`, and every shared library it links (as
//! `ldd` reports them, the dynamic loader included) at its own path. The image is
//! tagged `dpgnet-node:<first 12 hex digits of keccak256(binary)>`, so it is
//! rebuilt only when the binary changes.

use std::path::{Path, PathBuf};

use alloy_primitives::keccak256;

/// The image repository name.
pub const IMAGE_REPO: &str = "dpgnet-node";

/// The Dockerfile of the generated context.
pub const DOCKERFILE: &str = "FROM scratch\n\
COPY rootfs/ /\n\
ENV DPGNET_PARAMS_DIR=/params\n\
STOPSIGNAL SIGTERM\n\
ENTRYPOINT [\"/dpgnet\"]\n\
CMD [\"node\"]\n";

/// What goes into the image.
#[derive(Debug, Clone)]
pub struct ImageContext {
    /// `dpgnet-node:<hash>`.
    pub tag: String,
    /// The binary.
    pub binary: PathBuf,
    /// The shared libraries it needs (absolute paths, as loaded).
    pub libraries: Vec<PathBuf>,
}

/// Image errors.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `ldd` failed.
    #[error("cannot list the shared libraries of {0} with ldd: {1}")]
    Ldd(PathBuf, String),
}

/// The binary to put in the image: `$DPGNET_NODE_BINARY`, else this executable
/// when it is `dpgnet`, else (a test harness or bench in `target/*/deps/`) the
/// `dpgnet` binary of the same build, one directory up.
///
/// # Errors
/// [`ImageError::Read`] when the path cannot be determined.
pub fn node_binary() -> Result<PathBuf, ImageError> {
    if let Some(p) = std::env::var_os("DPGNET_NODE_BINARY") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|source| ImageError::Read {
        path: PathBuf::from("/proc/self/exe"),
        source,
    })?;
    if exe.file_name().is_some_and(|n| n == "dpgnet") {
        return Ok(exe);
    }
    let sibling = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("dpgnet"))
        .filter(|p| p.is_file());
    Ok(sibling.unwrap_or(exe))
}

/// The tag of the image for `binary`: `dpgnet-node:<12 hex of keccak256>`.
///
/// # Errors
/// [`ImageError::Read`].
pub fn tag_for(binary: &Path) -> Result<String, ImageError> {
    let bytes = std::fs::read(binary).map_err(|source| ImageError::Read {
        path: binary.to_path_buf(),
        source,
    })?;
    let h = keccak256(&bytes);
    Ok(format!("{IMAGE_REPO}:{}", &hex::encode(h)[..12]))
}

/// Parse `ldd` output into library paths (`libx.so => /lib/libx.so (0x…)` and the
/// loader's `/lib64/ld-linux-x86-64.so.2 (0x…)`); `linux-vdso` has no file.
#[must_use]
pub fn parse_ldd(out: &str) -> Vec<PathBuf> {
    let mut libs = Vec::new();
    for line in out.lines() {
        let line = line.trim();
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(p));
        }
    }
    libs.sort();
    libs.dedup();
    libs
}

/// Describe the image for `binary`: its tag and libraries.
///
/// # Errors
/// [`ImageError`] when the binary cannot be read or `ldd` fails.
pub fn context_for(binary: &Path) -> Result<ImageContext, ImageError> {
    let tag = tag_for(binary)?;
    let out = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| ImageError::Ldd(binary.to_path_buf(), e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // A static binary makes ldd say "not a dynamic executable" (exit 1): no libs.
    let libraries = if out.status.success() {
        parse_ldd(&text)
    } else {
        Vec::new()
    };
    Ok(ImageContext {
        tag,
        binary: binary.to_path_buf(),
        libraries,
    })
}

impl ImageContext {
    /// The build context as an (uncompressed) tar archive: `Dockerfile` and
    /// `rootfs/` with the binary and the libraries (symlinks resolved to files).
    ///
    /// # Errors
    /// [`ImageError::Read`] when a file cannot be read.
    pub fn tar(&self) -> Result<Vec<u8>, ImageError> {
        let mut b = tar::Builder::new(Vec::new());
        let io = |path: &Path| {
            let p = path.to_path_buf();
            move |source| ImageError::Read { path: p, source }
        };
        let add = |b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8], mode: u32| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(mode);
            h.set_mtime(0);
            h.set_cksum();
            b.append_data(&mut h, name, data)
        };
        add(&mut b, "Dockerfile", DOCKERFILE.as_bytes(), 0o644)
            .map_err(io(Path::new("Dockerfile")))?;
        let bin = std::fs::read(&self.binary).map_err(io(&self.binary))?;
        add(&mut b, "rootfs/dpgnet", &bin, 0o755).map_err(io(&self.binary))?;
        for lib in &self.libraries {
            let data = std::fs::read(lib).map_err(io(lib))?;
            let name = format!("rootfs{}", lib.display());
            add(&mut b, &name, &data, 0o755).map_err(io(lib))?;
        }
        // Mount points and a writable /tmp.
        for dir in ["rootfs/params/", "rootfs/tmp/", "rootfs/etc/dpgnet/"] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(if dir == "rootfs/tmp/" { 0o1777 } else { 0o755 });
            h.set_mtime(0);
            h.set_cksum();
            b.append_data(&mut h, dir, std::io::empty())
                .map_err(io(Path::new(dir)))?;
        }
        b.into_inner().map_err(io(Path::new("context.tar")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_is_parsed_into_library_paths() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            parse_ldd(out),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
        assert!(parse_ldd("\tnot a dynamic executable\n").is_empty());
    }

    #[test]
    fn the_context_holds_the_dockerfile_binary_and_libraries() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("dpgnet");
        std::fs::write(&bin, b"\x7fELF fake").unwrap();
        let lib = dir.path().join("libfake.so");
        std::fs::write(&lib, b"lib").unwrap();
        let ctx = ImageContext {
            tag: tag_for(&bin).unwrap(),
            binary: bin.clone(),
            libraries: vec![lib.clone()],
        };
        assert!(ctx.tag.starts_with("dpgnet-node:") && ctx.tag.len() == 12 + 12);
        let tar = ctx.tar().unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(names.contains(&"Dockerfile".to_string()));
        assert!(names.contains(&"rootfs/dpgnet".to_string()));
        assert!(names.contains(&format!("rootfs{}", lib.display())));
        // The tag follows the bytes.
        std::fs::write(&bin, b"\x7fELF other").unwrap();
        assert_ne!(tag_for(&bin).unwrap(), ctx.tag);
    }
}
