fn main() -> std::process::ExitCode {
    accord::cli::run()
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
