//! `login` and `logout`: credentials checked against the registry, then kept in Docker's
//! config.json (shared with the docker CLI); a token server's refresh token is stored as
//! `identitytoken` instead of the password.

use berth_image::registry::client::{Client, Credentials};
use berth_image::registry::credentials;

pub fn login(
    server: Option<&str>,
    username: Option<String>,
    password: Option<String>,
    password_stdin: bool,
) -> Result<i32, String> {
    let registry = credentials::server_name(server);
    let username = username
        .ok_or("login: a username is required (-u); interactive prompts are not supported yet")?;
    let password = match (password, password_stdin) {
        (Some(_), true) => {
            return Err("--password and --password-stdin are mutually exclusive".into())
        }
        (Some(p), false) => p,
        (None, true) => {
            let mut p = String::new();
            std::io::stdin()
                .read_line(&mut p)
                .map_err(|e| format!("read password from stdin: {e}"))?;
            p.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => {
            return Err("login: a password is required (-p or --password-stdin)".into())
        }
    };
    let mut creds = Credentials {
        username,
        password,
        identity_token: None,
    };
    let config =
        berth_image::registry::config::RegistryConfig::load().map_err(|e| e.to_string())?;
    let refresh = Client::from_config(config, Some(creds.clone()))
        .login(&registry)
        .map_err(|e| format!("login to {registry} failed: {e}"))?;
    // As docker does: a token server's refresh token replaces the password on disk.
    if let Some(t) = refresh {
        creds.password.clear();
        creds.identity_token = Some(t);
    }
    credentials::store(&credentials::config_path(), &registry, Some(&creds))
        .map_err(|e| e.to_string())?;
    println!("Login Succeeded");
    Ok(0)
}

pub fn logout(server: Option<&str>) -> Result<i32, String> {
    let registry = credentials::server_name(server);
    if credentials::store(&credentials::config_path(), &registry, None)
        .map_err(|e| e.to_string())?
    {
        println!("Removing login credentials for {registry}");
    } else {
        println!("Not logged in to {registry}");
    }
    Ok(0)
}
