//! Page renders never stall: every portal page, rendered over and over by concurrent
//! signed-in sessions, on one and two worker threads, on both databases, while other
//! routers are built in the same process; each render is given 10 s and none may take
//! longer. The stall this found: listing a router's page routes suspends every resource
//! load in the process (leptos-rs/leptos#4773), so a page of another server whose resource
//! first ran then waited forever; the route list is now made once per process.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

/// Concurrent signed-in sessions.
const SESSIONS: usize = 8;
/// Times each session renders every page (`LATCHKEY_STALL_ROUNDS` for a longer run).
fn rounds() -> usize {
    std::env::var("LATCHKEY_STALL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}
/// A render not answered within this is counted as stalled.
const STALL: Duration = Duration::from_secs(10);
/// How long a stalled render is waited for, to tell a slow answer from none (the server's
/// own guard answers 408 after 30 s).
const GIVE_UP: Duration = Duration::from_secs(40);

async fn every_page_renders(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.org_with_admin("Stall test").await;
    let admin = app.signed_in(&org.admin_email).await;
    let (client_id, _) = admin.create_app(&as_refs(&user_app("Render me"))).await;
    let member = app.add_user(&org, "member").await;
    let pages: Arc<Vec<String>> = Arc::new(vec![
        "/".into(),
        "/admin".into(),
        "/admin?q=render".into(),
        "/admin/apps/new".into(),
        format!("/admin/apps/{client_id}"),
        format!("/admin/apps/{client_id}/authorizations"),
        "/admin/users".into(),
        "/admin/org".into(),
        "/admin/apis".into(),
        "/admin/external-apps".into(),
        "/admin/audit".into(),
        "/account/apps".into(),
        "/consent?request=unknown".into(),
    ]);
    let stalls = Arc::new(AtomicUsize::new(0));
    let renders = Arc::new(AtomicUsize::new(0));
    let mut sessions = Vec::new();
    for i in 0..SESSIONS {
        // Mostly admins; some members, who get the "not allowed" frame on admin pages.
        let who = if i % 4 == 3 {
            member.clone()
        } else {
            org.admin_email.clone()
        };
        let b = app.signed_in(&who).await;
        let (pages, stalls, renders) = (pages.clone(), stalls.clone(), renders.clone());
        let base = app.base.clone();
        let rounds = rounds();
        sessions.push(tokio::spawn(async move {
            for _ in 0..rounds {
                for p in pages.iter() {
                    let began = Instant::now();
                    let sent = b
                        .http
                        .get(format!("{base}{p}"))
                        .header("accept", "text/html")
                        .timeout(GIVE_UP)
                        .send()
                        .await;
                    let headers = began.elapsed();
                    let res = match sent {
                        Ok(res) => res,
                        Err(e) if e.is_timeout() => {
                            eprintln!("stalled: {p}: no headers after {headers:?}");
                            stalls.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Err(e) => panic!("{p}: {e}"),
                    };
                    let status = res.status().as_u16();
                    let body = res.text().await;
                    let total = began.elapsed();
                    match body {
                        Ok(body) if total < STALL => {
                            assert!(status < 500, "{p}: {status}");
                            assert!(body.contains("</html>"), "{p}: incomplete page");
                            renders.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(body) => {
                            eprintln!(
                                "stalled: {p}: {status} headers after {headers:?}, whole \
                                 after {total:?}, complete: {}",
                                body.contains("</html>")
                            );
                            stalls.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) if e.is_timeout() => {
                            eprintln!(
                                "stalled: {p}: {status} headers after {headers:?}, body never ended"
                            );
                            stalls.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("{p}: {e}"),
                    }
                }
            }
        }));
    }
    // Other servers are built in this process while these pages render, as they are when
    // the tests of one binary run side by side (and as a process hosting several routers
    // would): building a router must never suspend another router's renders.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let building = {
        let (state, stop) = (app.state.clone(), stop.clone());
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            let _entered = runtime.enter();
            while !stop.load(Ordering::Relaxed) {
                drop(latchkey::server::router(state.clone()));
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    for s in sessions {
        s.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    building.join().unwrap();
    let (stalls, renders) = (
        stalls.load(Ordering::Relaxed),
        renders.load(Ordering::Relaxed),
    );
    eprintln!("{backend:?}: {renders} page renders, {stalls} stalled");
    assert_eq!(stalls, 0, "{stalls} stalled page renders of {renders}");
    assert_eq!(renders + stalls, SESSIONS * rounds() * pages.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn sqlite_one_worker() {
    every_page_renders(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_workers() {
    every_page_renders(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn postgres_one_worker() {
    every_page_renders(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_workers() {
    every_page_renders(Backend::Postgres).await
}
