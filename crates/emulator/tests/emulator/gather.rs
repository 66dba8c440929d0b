//! `<Gather>` over real HTTP: the digits callee's keys reach the action, signed; a silent callee
//! makes no action request and the next verb runs.

use super::{Api, FROM, MAIN, Receiver, emulator, sid_of};
use callspec_emulator::seed;

#[tokio::test]
async fn the_digits_reach_the_action_and_silence_falls_through() {
    let emulator = emulator(20.0).await;
    let api = Api::new(&emulator);
    let rx = Receiver::start().await;
    rx.serve("/action", 200, "<Response><Hangup/></Response>").await;
    rx.serve("/after", 200, "<Response><Hangup/></Response>").await;
    let twiml = format!(
        r#"<Response><Gather action="{}" timeout="1"><Say>Code</Say></Gather><Redirect>{}</Redirect></Response>"#,
        rx.url("/action"),
        rx.url("/after")
    );
    let pressed = sid_of(&api.create(&[("To", seed::CALLEE_DIGITS), ("From", FROM), ("Twiml", &twiml)]).await);
    let silent = sid_of(&api.create(&[("To", seed::CALLEE_SILENT), ("From", FROM), ("Twiml", &twiml)]).await);

    let action = rx.wait_for("/action", &pressed, 1).await;
    assert_eq!(action[0].method, "POST");
    assert_eq!(action[0].param("Digits"), "1234", "the finish key is left out");
    assert_eq!(action[0].param("CallStatus"), "in-progress");
    assert!(action[0].signed_by(MAIN.1), "the action request is signed");

    rx.wait_for("/after", &silent, 1).await;
    assert!(rx.about("/action", &silent).is_empty(), "no action request without input");
    assert!(rx.about("/after", &pressed).is_empty(), "the action's TwiML replaced the document");
}
