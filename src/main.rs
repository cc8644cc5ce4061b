//! The `dpgnet` binary: parse the command line, set up logging and a tokio runtime,
//! run the command, and turn its outcome into an exit code with one sentence on stderr.

use std::process::ExitCode;
use std::time::Duration;

use dpgnet::cli::{self, Cli, Failure};
use dpgnet::headless::{EXIT_INTERRUPTED, EXIT_RUNTIME};
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = Cli::parse_or_exit();
    if let Err(e) = cli::init_logging(&cli) {
        return fail(&e);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("dpgnet: cannot start the tokio runtime: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let interrupt = CancellationToken::new();
    let result = runtime.block_on(async {
        tokio::spawn(watch_ctrl_c(interrupt.clone()));
        cli::dispatch(cli, interrupt).await
    });
    // Don't wait forever for tasks that ignore cancellation.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The first Ctrl-C cancels `interrupt` (the devnet stops cleanly); a second one exits
/// at once with code 130.
async fn watch_ctrl_c(interrupt: CancellationToken) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    tracing::warn!(
        target: "dpgnet::cli",
        "interrupted: stopping the devnet (Ctrl-C again to exit at once)"
    );
    interrupt.cancel();
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    }
}

fn fail(failure: &Failure) -> ExitCode {
    eprintln!("dpgnet: {failure}");
    ExitCode::from(failure.exit_code())
}
