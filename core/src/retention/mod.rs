//! Retention's pure part: when each holding falls due. The sweeps, holds and requests are the
//! service's (`accord::retention`).

pub mod plan;
