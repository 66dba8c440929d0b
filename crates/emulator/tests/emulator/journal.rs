//! The request journal (`Config::journal`): off by default; on, every API exchange is recorded
//! as it crossed the wire (method, path, query, headers with `Authorization`, raw body, status,
//! answer body), refused requests included.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_records_every_exchange_as_sent_and_is_off_by_default() {
    let off = emulator(5.0).await;
    assert!(off.journal().is_none(), "no journal unless enabled");

    let emu = emulator_with(Config { journal: true, cps: 5.0, ..Config::default() }).await;
    let api = Api::new(&emu);
    let journal = emu.journal().expect("the journal is on").clone();
    let body = b"To=%2B14155551212&From=%2B15017122661&Url=http%3A%2F%2F127.0.0.1%3A9%2Ftwiml\
                 &StatusCallbackEvent=initiated&StatusCallbackEvent=answered"
        .to_vec();
    let created =
        api.raw("POST", &calls(MAIN.0), Some(MAIN), Some(("application/x-www-form-urlencoded", body.clone()))).await;
    assert_eq!(created.status, 201, "{}", created.json);
    let listed = api.get(&format!("{}?PageSize=2", calls(MAIN.0))).await;
    assert_eq!(listed.status, 200);
    let refused = api.get_as((MAIN.0, "wrong"), &calls(MAIN.0)).await;
    assert_eq!(refused.status, 401);

    let entries = journal.since(0);
    assert_eq!(entries.len(), 3, "{entries:?}");
    let post = &entries[0];
    assert_eq!((post.method.as_str(), post.path.as_str(), post.status), ("POST", calls(MAIN.0).as_str(), 201));
    assert_eq!(post.body, body, "the raw body, not a re-encoding");
    assert_eq!(post.header("authorization"), Some(format!("Basic {}", base64_basic(MAIN)).as_str()));
    let answered: Value = serde_json::from_slice(&post.response_body).expect("the answer body");
    assert_eq!(answered["sid"], created.json["sid"]);
    assert_eq!((entries[1].query.as_str(), entries[1].status), ("PageSize=2", 200));
    assert_eq!(entries[2].status, 401);
    assert_eq!(journal.since(2).len(), 1);
    assert_eq!(journal.dropped(), 0);
}
