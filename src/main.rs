//! The smsaudit command: everything it does is [`smsaudit::app::main`]'s,
//! which the library keeps so the binary needs one path.

fn main() {
    std::process::exit(smsaudit::app::main());
}
