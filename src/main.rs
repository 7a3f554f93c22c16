fn main() {
    console_error_panic_hook::set_once();
    shieldcall::browser::timeline::mark("app started");
    leptos::mount::mount_to_body(shieldcall::App);
}
