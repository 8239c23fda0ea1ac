use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = latchkey::cli::Cli::parse();
    if let Err(message) = latchkey::cli::run(cli).await {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
