//! The gate's question as `POST /api/v1/flows/check` reads it: `CheckRequest` from arbitrary
//! bytes with serde_json, and when it parses, the pure decision over the sample agreements in
//! every state, on days in and out of their terms, each answer keeping its promises.
#![no_main]

use accord_core::gate::CheckRequest;
use accord_fuzz::decide_everywhere;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = serde_json::from_slice::<CheckRequest>(data) else {
        return;
    };
    decide_everywhere(&req);
});
