//! What authenticating one API request costs before the database is asked: reading the
//! `Authorization` header (shape and CRC32 checksum) and checking the secret (HMAC-SHA256
//! under the pepper, constant-time compare). For scale, the argon2id password check that
//! a browser log-in pays — and that a key check must never pay.

use app::auth::token;
use app::auth::principal::parse_authorization;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let pepper = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let key = token::generate();
    let hasher = token::SecretHasher::new(pepper);
    let stored = hasher.hash(&key.secret);
    let bearer = format!("Bearer {}", key.token);

    c.bench_function("parse bearer header (shape + checksum)", |b| {
        b.iter(|| parse_authorization(black_box(&bearer)).unwrap())
    });
    c.bench_function("verify secret (HMAC-SHA256, constant time)", |b| {
        b.iter(|| assert!(black_box(&hasher).verify(black_box(&key.secret), black_box(&stored))))
    });
    // What the check cost before the pepper's key schedule was computed once per instance.
    c.bench_function("verify secret, key schedule per check", |b| {
        b.iter(|| assert!(token::SecretHasher::new(black_box(pepper)).verify(black_box(&key.secret), black_box(&stored))))
    });
    c.bench_function("parse + verify (a key's whole CPU cost)", |b| {
        b.iter(|| {
            let (_, secret) = parse_authorization(black_box(&bearer)).unwrap();
            assert!(hasher.verify(&secret, &stored));
        })
    });
    let mut mistyped = key.token.clone().into_bytes();
    mistyped[30] ^= 1;
    let mistyped = format!("Bearer {}", String::from_utf8(mistyped).unwrap());
    c.bench_function("reject a mistyped token (checksum)", |b| {
        b.iter(|| assert!(parse_authorization(black_box(&mistyped)).is_err()))
    });

    use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
    let phc = argon2::Argon2::default().hash_password(b"a long password").unwrap().to_string();
    let parsed = PasswordHash::new(&phc).unwrap();
    let mut group = c.benchmark_group("for scale");
    group.sample_size(10);
    group.bench_function("argon2id password verify (OWASP params)", |b| {
        b.iter(|| argon2::Argon2::default().verify_password(black_box(b"a long password"), &parsed).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
