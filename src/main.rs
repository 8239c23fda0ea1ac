use clap::Parser;

/// mimalloc: fewer cycles per request than glibc's allocator on the token endpoint.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = latchkey::cli::Cli::parse();
    if let Err(message) = latchkey::cli::run(cli).await {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
