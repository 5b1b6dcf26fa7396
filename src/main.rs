fn main() -> std::process::ExitCode {
    accord::cli::run()
}
