//! The on-disk params cache: files are written once, read back by a fresh
//! cache, and regenerated when corrupt.

use std::{fs, sync::Arc};

use dpgnet_circuits::{CircuitError, MAX_K, ParamsCache};

fn serialize(params: &dpgnet_circuits::params::VestaParams) -> Vec<u8> {
    let mut buf = Vec::new();
    params.write(&mut buf).unwrap();
    buf
}

#[test]
fn second_cache_reads_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = ParamsCache::new(dir.path().join("nested"));
    let path = first.path(6);
    assert!(!path.exists());

    let generated = first.get(6).unwrap();
    assert!(path.exists());
    assert_eq!(fs::metadata(&path).unwrap().len(), 4 + (2 * 64 + 2) * 32);
    // Same object: served from memory.
    assert!(Arc::ptr_eq(&generated, &first.get(6).unwrap()));
    // No temporary files left behind.
    assert_eq!(fs::read_dir(first.dir()).unwrap().count(), 1);

    let second = ParamsCache::new(dir.path().join("nested"));
    let read = second.get(6).unwrap();
    assert!(!Arc::ptr_eq(&generated, &read));
    assert_eq!(serialize(&generated), serialize(&read));
    assert_eq!(fs::read(&path).unwrap(), serialize(&read));
}

#[test]
fn corrupt_file_is_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ParamsCache::new(dir.path());
    let path = cache.path(5);

    // Wrong size.
    fs::write(&path, b"not params").unwrap();
    let params = ParamsCache::new(dir.path()).get(5).unwrap();
    assert_eq!(params.k(), 5);
    assert_eq!(fs::read(&path).unwrap(), serialize(&params));

    // Right size, wrong k header.
    let mut bytes = fs::read(&path).unwrap();
    bytes[0] = 30;
    fs::write(&path, &bytes).unwrap();
    let again = ParamsCache::new(dir.path()).get(5).unwrap();
    assert_eq!(serialize(&again), serialize(&params));

    // Right size and header, invalid points.
    let mut bytes = fs::read(&path).unwrap();
    bytes[4..].fill(0xff);
    fs::write(&path, &bytes).unwrap();
    let again = cache.get(5).unwrap();
    assert_eq!(serialize(&again), serialize(&params));
}

#[test]
fn refuses_huge_k() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        ParamsCache::new(dir.path()).get(MAX_K + 1),
        Err(CircuitError::TooLarge { max_k: MAX_K })
    ));
}
