//! The `gird` command.

mod cli;
mod outbox;

use clap::Parser;

// glibc's allocator spent a quarter of an insert's CPU time (blocks allocated on a
// request thread are freed on the writer thread); mimalloc handles that pattern well.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let (format, audit_log) = cli.logging();
    if let Err(error) = cli::init_logging(format, audit_log.as_deref()) {
        eprintln!("gird: {error:#}");
        return std::process::ExitCode::FAILURE;
    }
    // An import is one client: on one thread it spends less CPU switching between threads,
    // which a local server needs more.
    let runtime = match cli.is_import() {
        true => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        false => tokio::runtime::Runtime::new(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("gird: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gird: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
