//! Client profiles: a TOML file in the user's configuration directory, one table per profile,
//! overridden by `COFFER_ENDPOINT`, `COFFER_SECRET_ID`, `COFFER_SECRET_KEY`, `COFFER_REGION`
//! (and `COFFER_TOKEN`).
//!
//! ```toml
//! [default]
//! endpoint = "http://127.0.0.1:9000"
//! region = "ap-guangzhou"
//! secret_id = "AKID…"
//! secret_key = "…"
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use coffer_sdk::{CosConfig, Scheme};
use serde::{Deserialize, Serialize};

/// One profile: where the service is and which keys to use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// `http://127.0.0.1:9000` (a Coffer server: COS Host headers sent to this address), or
    /// `https://cos.ap-guangzhou.myqcloud.com` (an endpoint buckets live under). Empty: the
    /// real COS endpoint of the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region, default `ap-guangzhou`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// SecretId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
    /// SecretKey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// Temporary-credential token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigFile {
    /// Profiles by name.
    pub profiles: BTreeMap<String, Profile>,
}

/// The configuration file's path: `$COFFER_CONFIG`, else
/// `$XDG_CONFIG_HOME/coffer/config.toml`, else `~/.config/coffer/config.toml`.
pub fn config_path() -> anyhow::Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(path) = var("COFFER_CONFIG") {
        return Ok(PathBuf::from(path));
    }
    let base = match (var("XDG_CONFIG_HOME"), var("HOME")) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => PathBuf::from(home).join(".config"),
        (None, None) => bail!("cannot find a configuration directory: set HOME or COFFER_CONFIG"),
    };
    Ok(base.join("coffer").join("config.toml"))
}

impl ConfigFile {
    /// The profile named `name` (empty if absent) under the `COFFER_*` overrides: what the
    /// client commands use.
    pub fn effective_profile(&self, name: &str) -> Profile {
        self.profiles
            .get(name)
            .cloned()
            .unwrap_or_default()
            .with_env_overrides()
    }

    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> anyhow::Result<ConfigFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the file (readable by its owner only: it holds keys).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = toml::to_string(self).context("encoding the configuration")?;
        let temp = path.with_extension("toml.tmp");
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&temp)
                .with_context(|| format!("writing {}", temp.display()))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&temp, path).with_context(|| format!("writing {}", path.display()))
    }
}

impl Profile {
    /// This profile with the `COFFER_*` environment variables applied on top.
    pub fn with_env_overrides(mut self) -> Profile {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(v) = var("COFFER_ENDPOINT") {
            self.endpoint = Some(v);
        }
        if let Some(v) = var("COFFER_REGION") {
            self.region = Some(v);
        }
        if let Some(v) = var("COFFER_SECRET_ID") {
            self.secret_id = Some(v);
        }
        if let Some(v) = var("COFFER_SECRET_KEY") {
            self.secret_key = Some(v);
        }
        if let Some(v) = var("COFFER_TOKEN") {
            self.token = Some(v);
        }
        self
    }

    /// The SDK configuration of this profile.
    pub fn to_cos_config(&self) -> anyhow::Result<CosConfig> {
        let region = self.region.clone().unwrap_or_else(|| "ap-guangzhou".into());
        let mut config = CosConfig::new(region);
        match (&self.secret_id, &self.secret_key, &self.token) {
            (Some(id), Some(key), Some(token)) => {
                config = config.temporary_credentials(id, key, token)
            }
            (Some(id), Some(key), None) => config = config.credentials(id, key),
            (None, None, _) => {}
            _ => bail!("the profile has only one of secret_id and secret_key"),
        }
        if let Some(endpoint) = self.endpoint.as_deref().filter(|e| !e.is_empty()) {
            let (scheme, rest) = match endpoint.split_once("://") {
                Some(("http", rest)) => (Scheme::Http, rest),
                Some(("https", rest)) => (Scheme::Https, rest),
                Some((other, _)) => bail!("endpoint {endpoint:?}: unknown scheme {other:?}"),
                None => (Scheme::Https, endpoint),
            };
            let authority = rest.trim_end_matches('/');
            if authority.is_empty() || authority.contains('/') {
                bail!("endpoint {endpoint:?} must be scheme://host[:port]");
            }
            let (host, port) = split_port(authority)
                .with_context(|| format!("endpoint {endpoint:?}: bad port"))?;
            config = config.scheme(scheme);
            if is_address(host) {
                // A server reached by address: send the COS Host header to it.
                config = config.ip(host);
                if let Some(port) = port {
                    config = config.port(port);
                }
            } else {
                // A domain buckets live under (`<bucket>.<endpoint>`).
                config = config.endpoint(authority);
            }
        }
        Ok(config)
    }

    /// The profile for display: the secret key masked.
    pub fn masked(&self) -> Profile {
        let mask = |s: &Option<String>| {
            s.as_ref().map(|k| {
                let tail: String = k
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("****{tail}")
            })
        };
        Profile {
            secret_key: mask(&self.secret_key),
            token: mask(&self.token),
            ..self.clone()
        }
    }
}

/// Asks for each field on the terminal; an empty answer keeps the current value. The secret
/// key is read without echo and its current value shown masked.
fn ask_on_terminal(mut profile: Profile) -> anyhow::Result<Profile> {
    let masked = profile.masked();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |label: &str, shown: &Option<String>, current: &Option<String>, secret: bool| {
        let prompt = format!("{label} [{}]: ", shown.as_deref().unwrap_or(""));
        let line = if secret {
            rpassword::prompt_password(prompt)?
        } else {
            print!("{prompt}");
            std::io::stdout().flush()?;
            lines.next().transpose()?.unwrap_or_default()
        };
        let line = line.trim();
        anyhow::Ok(if line.is_empty() {
            current.clone()
        } else {
            Some(line.to_string())
        })
    };
    profile.endpoint = ask(
        "Endpoint (http://host:port or COS domain, empty for COS)",
        &profile.endpoint,
        &profile.endpoint,
        false,
    )?;
    profile.region = ask("Region", &profile.region, &profile.region, false)?;
    profile.secret_id = ask("SecretId", &profile.secret_id, &profile.secret_id, false)?;
    profile.secret_key = ask("SecretKey", &masked.secret_key, &profile.secret_key, true)?;
    Ok(profile)
}

/// `host:port` → (host, port); IPv6 literals in brackets.
fn split_port(authority: &str) -> anyhow::Result<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').context("unclosed [")?;
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port.parse()?))),
            None => Ok((host, None)),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Ok((host, Some(port.parse()?))),
        None => Ok((authority, None)),
    }
}

/// An IP literal or `localhost`: a server addressed directly, not a COS domain.
fn is_address(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok()
}

/// `coffer config`: writes a profile from flags, or asks for each field on a terminal.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The profile to write.
    #[arg(long, default_value = "default")]
    profile: String,
    /// Endpoint: `http://127.0.0.1:9000` for a Coffer server, or a COS endpoint domain.
    #[arg(long)]
    endpoint: Option<String>,
    /// Region (default `ap-guangzhou`).
    #[arg(long)]
    region: Option<String>,
    /// SecretId.
    #[arg(long)]
    secret_id: Option<String>,
    /// SecretKey.
    #[arg(long)]
    secret_key: Option<String>,
    /// Temporary-credential token.
    #[arg(long)]
    token: Option<String>,
    /// Print the profile (key masked) instead of writing it.
    #[arg(long)]
    show: bool,
}

/// Runs `coffer config`.
pub fn run(args: ConfigArgs) -> anyhow::Result<()> {
    let path = config_path()?;
    let mut file = ConfigFile::load(&path)?;
    if args.show {
        // What the client commands will use: the stored profile under the environment.
        let shown = toml::to_string(&file.effective_profile(&args.profile).masked())?;
        println!(
            "# {} [{}], COFFER_* variables applied\n{shown}",
            path.display(),
            args.profile
        );
        return Ok(());
    }
    let mut profile = file
        .profiles
        .get(&args.profile)
        .cloned()
        .unwrap_or_default();
    let any_flag = args.endpoint.is_some()
        || args.region.is_some()
        || args.secret_id.is_some()
        || args.secret_key.is_some()
        || args.token.is_some();
    if any_flag {
        profile.endpoint = args.endpoint.or(profile.endpoint);
        profile.region = args.region.or(profile.region);
        profile.secret_id = args.secret_id.or(profile.secret_id);
        profile.secret_key = args.secret_key.or(profile.secret_key);
        profile.token = args.token.or(profile.token);
    } else if std::io::stdin().is_terminal() {
        profile = ask_on_terminal(profile)?;
    } else {
        bail!(
            "give the profile's fields as flags (see `coffer config --help`), or run on a terminal"
        );
    }
    profile
        .to_cos_config()
        .context("the profile is not usable")?;
    file.profiles.insert(args.profile.clone(), profile);
    file.save(&path)?;
    println!("profile {:?} written to {}", args.profile, path.display());
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let mut file = ConfigFile::default();
        file.profiles.insert(
            "default".into(),
            Profile {
                endpoint: Some("http://127.0.0.1:9000".into()),
                secret_id: Some("AKID".into()),
                secret_key: Some("secretkey".into()),
                ..Profile::default()
            },
        );
        file.save(&path).unwrap();
        assert_eq!(ConfigFile::load(&path).unwrap(), file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(
            ConfigFile::load(&dir.path().join("none")).unwrap(),
            ConfigFile::default()
        );
    }

    #[test]
    fn endpoints_become_sdk_configurations() {
        let profile = |endpoint: &str| Profile {
            endpoint: Some(endpoint.into()),
            ..Profile::default()
        };
        assert!(profile("http://127.0.0.1:9000").to_cos_config().is_ok());
        assert!(profile("https://cos.ap-beijing.myqcloud.com")
            .to_cos_config()
            .is_ok());
        assert!(profile("http://[::1]:9000").to_cos_config().is_ok());
        assert!(profile("ftp://x").to_cos_config().is_err());
        assert!(profile("http://h:notaport").to_cos_config().is_err());
        let half = Profile {
            secret_id: Some("x".into()),
            ..Profile::default()
        };
        assert!(half.to_cos_config().is_err());
        let shown = Profile {
            secret_key: Some("abcdefgh".into()),
            ..Profile::default()
        }
        .masked();
        assert_eq!(shown.secret_key.as_deref(), Some("****efgh"));
    }
}
