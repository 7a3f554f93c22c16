//! Microseconds per frame for encrypt and decrypt, both GCM suites, typical frame sizes.
//! Run with `cargo run --release -p shieldcall-e2ee --example bench`.

use std::hint::black_box;
use std::time::Instant;

use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::sframe::{CipherSuite, Receiver, Sender};

fn main() {
    println!("| suite | frame | encrypt µs | decrypt µs |");
    println!("|---|---|---|---|");
    for suite in [CipherSuite::Aes128GcmSha256_128, CipherSuite::Aes256GcmSha512_128] {
        for size in [100usize, 1024, 16 * 1024, 200 * 1024] {
            let iterations = (20_000_000 / (size + 500)).clamp(50, 100_000);
            let base = BaseKey::from_slice(&[7; 16]);
            let mut sender = Sender::new(suite, base.clone(), 0, Slot::Camera).expect("epoch 0");
            let mut receiver = Receiver::new(suite, base, 0);
            let frame = vec![0x42u8; size];
            let mut wires = Vec::with_capacity(iterations);
            let mut buf = Vec::with_capacity(size + 64);

            let start = Instant::now();
            for _ in 0..iterations {
                buf.clear();
                buf.extend_from_slice(&frame);
                sender.encrypt_in_place(&mut buf, 0).expect("sends");
                black_box(&buf);
                if wires.len() < 2000 || size > 16 * 1024 {
                    wires.push(buf.clone());
                }
            }
            let enc = start.elapsed().as_secs_f64() * 1e6 / iterations as f64;

            let start = Instant::now();
            for wire in &wires {
                buf.clear();
                buf.extend_from_slice(wire);
                receiver.decrypt_in_place(&mut buf, 0, 0).expect("opens");
                black_box(&buf);
            }
            let dec = start.elapsed().as_secs_f64() * 1e6 / wires.len() as f64;
            let label =
                if size < 1024 { format!("{size} B") } else { format!("{} KB", size / 1024) };
            println!("| 0x{:04x} | {label} | {enc:.2} | {dec:.2} |", suite.id());
        }
    }
}
