//! On-disk cache of the public parameters (the IPA commitment key) per `k`.
//!
//! Halo 2 with IPA needs no trusted setup: `Params::new(k)` is deterministic
//! but costly (0.3 s at k = 9, 2.3 s at k = 12), so it is generated once per
//! `k`, written to `params-k{k}.bin` and read back afterwards.

use std::{
    collections::HashMap,
    fmt, fs,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use halo2_proofs::{pasta::EqAffine, poly::commitment::Params};
use tracing::{debug, warn};

use crate::{CircuitError, MAX_K};

/// Bytes of one compressed curve point in a params file.
const POINT_BYTES: u64 = 32;

/// Public parameters for circuits over pallas `Fp` (vesta points).
pub type VestaParams = Params<EqAffine>;

/// A directory of `params-k{k}.bin` files plus an in-memory map, so repeated
/// [`ParamsCache::get`] calls on one cache (or its clones) return the same
/// `Arc` without touching the disk.
///
/// Files are written atomically (temporary file in the same directory, then
/// rename), so concurrent processes sharing the directory never read a
/// half-written file. A file of the wrong size or with the wrong `k` header is
/// regenerated.
#[derive(Clone)]
pub struct ParamsCache {
    dir: PathBuf,
    loaded: Arc<Mutex<HashMap<u32, Arc<VestaParams>>>>,
}

impl fmt::Debug for ParamsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ks: Vec<u32> = loaded.keys().copied().collect();
        ks.sort_unstable();
        f.debug_struct("ParamsCache")
            .field("dir", &self.dir)
            .field("loaded_k", &ks)
            .finish()
    }
}

impl ParamsCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            loaded: Arc::default(),
        }
    }

    /// The default cache: `$DPGNET_PARAMS_DIR`, else
    /// `$XDG_CACHE_HOME/dpgnet/params`, else `$HOME/.cache/dpgnet/params`,
    /// else `<temp dir>/dpgnet-params`. Empty variables count as unset.
    #[must_use]
    pub fn default_location() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let dir = if let Some(dir) = var("DPGNET_PARAMS_DIR") {
            PathBuf::from(dir)
        } else if let Some(xdg) = var("XDG_CACHE_HOME") {
            PathBuf::from(xdg).join("dpgnet").join("params")
        } else if let Some(home) = var("HOME") {
            PathBuf::from(home)
                .join(".cache")
                .join("dpgnet")
                .join("params")
        } else {
            std::env::temp_dir().join("dpgnet-params")
        };
        Self::new(dir)
    }

    /// The cache directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the params file for `k`: `<dir>/params-k{k}.bin`.
    #[must_use]
    pub fn path(&self, k: u32) -> PathBuf {
        self.dir.join(format!("params-k{k}.bin"))
    }

    /// Params for `2^k` rows: from memory, else from `params-k{k}.bin`, else
    /// generated with `Params::new(k)` and written to that file.
    ///
    /// Blocking (file IO, up to seconds of CPU when generating): call it from
    /// `spawn_blocking` in async code. A file is `4 + (2^(k+1) + 2) * 32`
    /// bytes (16 KiB at k = 8, 131 KiB at k = 11).
    ///
    /// # Errors
    /// [`CircuitError::TooLarge`] if `k > MAX_K`; [`CircuitError::Params`] if
    /// the file exists but cannot be read, or the new file cannot be written.
    pub fn get(&self, k: u32) -> Result<Arc<VestaParams>, CircuitError> {
        if k > MAX_K {
            return Err(CircuitError::TooLarge { max_k: MAX_K });
        }
        // Held while generating: one process never generates the same k twice.
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(params) = loaded.get(&k) {
            return Ok(Arc::clone(params));
        }

        let path = self.path(k);
        let params = match read_params(&path, k).map_err(|e| with_path(&path, e))? {
            Some(params) => params,
            None => {
                let started = Instant::now();
                let params = Params::<EqAffine>::new(k);
                debug!(
                    target: "dpgnet::circuits::params",
                    k,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "generated params"
                );
                write_atomically(&self.dir, &path, &params).map_err(|e| with_path(&path, e))?;
                params
            }
        };
        let params = Arc::new(params);
        loaded.insert(k, Arc::clone(&params));
        Ok(params)
    }
}

/// Wraps an IO error with the path it concerns.
fn with_path(path: &Path, err: io::Error) -> CircuitError {
    CircuitError::Params(io::Error::new(
        err.kind(),
        format!("{}: {err}", path.display()),
    ))
}

/// Expected size of a params file for `k`: k header, `2^k` points `g`, `2^k`
/// Lagrange points, `w`, `u`.
fn params_file_len(k: u32) -> u64 {
    4 + ((2u64 << k) + 2) * POINT_BYTES
}

/// `Ok(None)` if the file is absent or invalid (it will be regenerated).
fn read_params(path: &Path, k: u32) -> io::Result<Option<VestaParams>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // Check the size and header before `Params::read`, which would allocate
    // `2^header` points.
    if bytes.len() as u64 != params_file_len(k) || bytes[..4] != k.to_le_bytes() {
        warn!(
            target: "dpgnet::circuits::params",
            path = %path.display(),
            len = bytes.len(),
            "params file has the wrong size or k; regenerating"
        );
        return Ok(None);
    }
    let started = Instant::now();
    match Params::<EqAffine>::read(&mut bytes.as_slice()) {
        Ok(params) => {
            debug!(
                target: "dpgnet::circuits::params",
                k,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "read params"
            );
            Ok(Some(params))
        }
        Err(e) => {
            warn!(
                target: "dpgnet::circuits::params",
                path = %path.display(),
                error = %e,
                "params file is corrupt; regenerating"
            );
            Ok(None)
        }
    }
}

/// Writes to a temporary file in `dir`, syncs it, then renames it over `path`.
fn write_atomically(dir: &Path, path: &Path, params: &VestaParams) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seq = COUNTER.fetch_add(1, Ordering::Relaxed);
    let file_name = path
        .file_name()
        .map_or_else(|| "params".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{file_name}.tmp-{}-{nanos}-{seq}",
        std::process::id()
    ));

    let result = (|| {
        let mut buf = Vec::new();
        params.write(&mut buf)?;
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&buf)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
