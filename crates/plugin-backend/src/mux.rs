//! Mux (in progress).
