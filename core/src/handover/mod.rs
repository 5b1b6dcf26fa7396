//! Handover's pure part: the items an agreement's contractors owe, and when.

pub mod items;
