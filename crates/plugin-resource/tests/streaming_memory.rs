//! A 100 MB response body streams through the adapter with bounded memory,
//! measured by a counting global allocator (the peak of live heap bytes).
//!
//! One test in its own binary, so that no other test allocates meanwhile.

// A global allocator can only be written with `unsafe impl GlobalAlloc`;
// it forwards to the system allocator and only adds counting.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::Method;
use plugin_backend::{
    CallResourceHandler, CallResourceRequest, CallResourceResponse, Error, ResponseSender,
};
use plugin_resource::HttpResourceHandler;

struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn allocated(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees hold; the counters do not touch the memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            allocated(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            allocated(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as received.
        let new_ptr = unsafe { System.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            allocated(new_size);
        }
        new_ptr
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const TOTAL: usize = 100 * 1000 * 1000;
const CHUNK: usize = 64 * 1024;

#[tokio::test]
async fn a_100_mb_body_streams_in_bounded_memory() {
    // The body is produced chunk by chunk, as a file or a database cursor
    // would produce it; it never exists in memory as a whole.
    let router = Router::new().route(
        "/download",
        get(|| async {
            let chunks = stream::iter((0..TOTAL).step_by(CHUNK)).map(|offset| {
                Ok::<_, std::convert::Infallible>(Bytes::from(vec![
                    b'x';
                    CHUNK.min(TOTAL - offset)
                ]))
            });
            Body::from_stream(chunks)
        }),
    );
    let handler = HttpResourceHandler::new(router);
    // Grafana's side: a bounded channel and a consumer that counts bytes.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<CallResourceResponse>(4);
    let sender = ResponseSender::new(futures_util::sink::unfold(tx, |tx, message| async move {
        tx.send(message).await.map_err(|_| Error::StreamClosed)?;
        Ok(tx)
    }));
    let consumer = async move {
        let (mut messages, mut bytes) = (0usize, 0usize);
        while let Some(message) = rx.recv().await {
            messages += 1;
            bytes += message.body.len();
        }
        (messages, bytes)
    };

    let baseline = LIVE.load(Ordering::SeqCst);
    PEAK.store(baseline, Ordering::SeqCst);
    let (result, (messages, received)) = tokio::join!(
        handler.call_resource(CallResourceRequest::new(Method::GET, "download"), sender),
        consumer
    );
    let peak = PEAK.load(Ordering::SeqCst) - baseline;

    result.unwrap();
    assert_eq!(received, TOTAL);
    assert!(messages > 1, "streamed, not sent whole");
    eprintln!(
        "streamed {TOTAL} bytes in {messages} messages; peak heap above baseline: {peak} bytes"
    );
    // A handful of 64 KiB chunks in flight, against 100 MB of body.
    assert!(
        peak < 2 * 1024 * 1024,
        "peak heap above baseline was {peak} bytes"
    );
}
