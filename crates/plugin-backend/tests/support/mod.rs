//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::{Arc, Mutex};

use plugin_backend::ResponseSender;

/// Runs `future` to completion on a fresh current-thread runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// A sender and the messages it received.
pub fn collecting_sender<T: Send + 'static>() -> (ResponseSender<T>, Arc<Mutex<Vec<T>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    let sender = ResponseSender::from_fn(move |message| {
        sink.lock().expect("not poisoned").push(message);
        Ok(())
    });
    (sender, received)
}
