//! Bad input at the nodes' JSON-RPC boundary: forged and mislabelled signatures,
//! replayed messages, blocks and slot starts from the wrong validator, commits
//! without a quorum, notices from outsiders. Each is refused with its error code
//! and changes nothing.

use alloy_primitives::{B256, Bytes};
use dpgnet::config::{Devnet, Role};
use dpgnet::node::rpc::{
    Attestation, CommitRequest, PhaseNotice, ProverApiClient, ProverApiServer, SlotStart,
    ValidatorApiClient, ValidatorApiServer, code, kind,
};
use dpgnet::node::{Circuits, NodeKey, ProverCore, ProverNode, ValidatorNode};
use dpgnet::orchestrator::{genesis, workload};
use dpgnet::protocol::{
    Commitment, Engine, EngineParams, Message, Phase, PhaseBlock, reveal_digest,
};
use dpgnet_circuits::ParamsCache;
use jsonrpsee::core::client::Error as ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::server::Server;

fn code_of(e: ClientError) -> i32 {
    match e {
        ClientError::Call(obj) => obj.code(),
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

struct Net {
    devnet: Devnet,
    validator: HttpClient,
    prover: HttpClient,
    keys: Vec<NodeKey>,
}

async fn start() -> Net {
    let devnet = Devnet::default_devnet();
    let np = &devnet.network_params;
    let circuits = Circuits::load(
        np.num_partial_proofs,
        np.txs_per_sub_block,
        np.num_sub_block_sets,
        &ParamsCache::default_location(),
    )
    .unwrap();
    let keys: Vec<NodeKey> = (0..4)
        .map(|i| NodeKey::derive(np.seed, Role::Validator, i))
        .collect();
    let engine = Engine::new(EngineParams::from_devnet(&devnet), &genesis(&devnet)).unwrap();
    let v = ValidatorNode::new(
        keys[0].clone(),
        engine,
        circuits.clone(),
        workload(&devnet),
        np.phase_seconds.clone(),
    );
    let server = Server::builder().build("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    std::mem::forget(server.start(v.into_rpc()));
    let p = ProverNode::new(ProverCore::new(
        NodeKey::derive(np.seed, Role::Prover, 0),
        circuits,
        workload(&devnet),
        None,
    ));
    p.set_validators(
        &keys
            .iter()
            .map(|k| (k.address(), url.clone()))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let pserver = Server::builder().build("127.0.0.1:0").await.unwrap();
    let purl = format!("http://{}", pserver.local_addr().unwrap());
    std::mem::forget(pserver.start(p.into_rpc()));
    Net {
        devnet,
        validator: HttpClientBuilder::default().build(url).unwrap(),
        prover: HttpClientBuilder::default().build(purl).unwrap(),
        keys,
    }
}

fn commit(slot: u64) -> Message {
    Message::Commit(Commitment {
        slot,
        set: 0,
        hash: B256::repeat_byte(3),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_and_out_of_turn_messages_are_refused() {
    let net = start().await;
    let prover = NodeKey::derive(net.devnet.network_params.seed, Role::Prover, 1);
    let other = NodeKey::derive(net.devnet.network_params.seed, Role::Prover, 2);

    // A valid signed message is pooled once; the same envelope again is a replay.
    let msg = prover.sign(kind::MESSAGE, commit(0)).unwrap();
    net.validator.submit(msg.clone()).await.expect("pooled");
    assert_eq!(
        code_of(net.validator.submit(msg.clone()).await.unwrap_err()),
        code::REPLAY
    );
    assert_eq!(net.validator.mempool().await.unwrap().len(), 1);

    // Forged: claims another signer.
    let mut forged = prover.sign(kind::MESSAGE, commit(0)).unwrap();
    forged.payload = commit(1);
    forged.signer = other.address();
    assert_eq!(
        code_of(net.validator.submit(forged).await.unwrap_err()),
        code::BAD_SIGNATURE
    );
    // Altered after signing.
    let mut altered = prover.sign(kind::MESSAGE, commit(2)).unwrap();
    altered.payload = commit(3);
    assert_eq!(
        code_of(net.validator.submit(altered).await.unwrap_err()),
        code::BAD_SIGNATURE
    );
    // Signed as another kind (a notice signature reused as a message).
    let mislabelled = prover.sign(kind::NOTICE, commit(4)).unwrap();
    assert_eq!(
        code_of(net.validator.submit(mislabelled).await.unwrap_err()),
        code::BAD_SIGNATURE
    );
    // Garbage signature bytes.
    let mut junk = prover.sign(kind::MESSAGE, commit(5)).unwrap();
    junk.signature = Bytes::from_static(&[0xde, 0xad]);
    assert_eq!(
        code_of(net.validator.submit(junk).await.unwrap_err()),
        code::BAD_SIGNATURE
    );
    assert_eq!(
        net.validator.mempool().await.unwrap().len(),
        1,
        "nothing else was pooled"
    );

    // Slot 0 is proposed by validator 0 (round robin): validator 1 cannot start it,
    // and a reveal signed by someone else is refused.
    let reveal = net.keys[1].sign_digest(&reveal_digest(0));
    let start = net.keys[1]
        .sign(kind::SLOT_START, SlotStart { slot: 0, reveal })
        .unwrap();
    assert_eq!(
        code_of(net.validator.begin_slot(start).await.unwrap_err()),
        code::NOT_NOW
    );
    let bad_reveal = net.keys[1].sign_digest(&reveal_digest(0));
    let start = net.keys[0]
        .sign(
            kind::SLOT_START,
            SlotStart {
                slot: 0,
                reveal: bad_reveal,
            },
        )
        .unwrap();
    assert_eq!(
        code_of(net.validator.begin_slot(start).await.unwrap_err()),
        code::BAD_SIGNATURE
    );
    assert_eq!(
        net.validator.status().await.unwrap().slot,
        None,
        "no slot began"
    );

    // A proper slot start, then a block from a validator that is not the proposer.
    let reveal = net.keys[0].sign_digest(&reveal_digest(0));
    let start = net.keys[0]
        .sign(kind::SLOT_START, SlotStart { slot: 0, reveal })
        .unwrap();
    net.validator
        .begin_slot(start.clone())
        .await
        .expect("slot 0 begins");
    assert_eq!(net.validator.status().await.unwrap().phase, Some(Phase::T1));
    let block = PhaseBlock {
        slot: 0,
        phase: Phase::T1,
        proposer: net.keys[2].address(),
        included: vec![],
    };
    let signed = net.keys[2].sign(kind::BLOCK, block.clone()).unwrap();
    assert_eq!(
        code_of(net.validator.propose(signed).await.unwrap_err()),
        code::NOT_NOW
    );
    // A block for the wrong phase.
    let wrong = PhaseBlock {
        phase: Phase::T2,
        proposer: net.keys[0].address(),
        ..block.clone()
    };
    let signed = net.keys[0].sign(kind::BLOCK, wrong).unwrap();
    assert_eq!(
        code_of(net.validator.propose(signed).await.unwrap_err()),
        code::NOT_NOW
    );
    // A commit with one attestation (4 validators need 3).
    let ok = PhaseBlock {
        proposer: net.keys[0].address(),
        ..block
    };
    let signed = net.keys[0].sign(kind::BLOCK, ok).unwrap();
    let att = net.keys[0]
        .sign(
            kind::ATTESTATION,
            Attestation {
                slot: 0,
                phase: Phase::T1,
                block_hash: signed.digest().unwrap(),
            },
        )
        .unwrap();
    let err = net
        .validator
        .commit(CommitRequest {
            block: signed.clone(),
            attestations: vec![att.clone()],
        })
        .await;
    assert_eq!(code_of(err.unwrap_err()), code::NOT_NOW);
    // The same attestation three times is still one voter.
    let err = net
        .validator
        .commit(CommitRequest {
            block: signed,
            attestations: vec![att.clone(), att.clone(), att],
        })
        .await;
    assert_eq!(code_of(err.unwrap_err()), code::NOT_NOW);
    assert_eq!(
        net.validator.status().await.unwrap().phase,
        Some(Phase::T1),
        "the phase did not advance"
    );

    // A notice to a prover signed by a non-validator is refused.
    let notice = PhaseNotice {
        slot: 0,
        block: 0,
        phase: Phase::T1,
        sets: vec![],
        agg_group: vec![],
        agg_target: None,
    };
    let fake = other.sign(kind::NOTICE, notice).unwrap();
    assert_eq!(
        code_of(net.prover.notice(fake).await.unwrap_err()),
        code::BAD_SIGNATURE
    );
}
