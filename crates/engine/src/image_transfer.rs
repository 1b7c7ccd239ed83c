//! Images in and out as whole archives and to registries: `save` (Docker 25+ archives),
//! `load`, `import` of a root filesystem tarball, `push`, their events recorded; for the
//! CLI's commands and the API's `/images/get`, `/images/load`, `/images/create?fromSrc=-`
//! and `/images/{name}/push` alike.

use crate::service::images::{record_event, resolve, Target};
use crate::{Engine, Error, Result};
use berth_image::archive::{self, Loaded, Saved};
use berth_image::manifest::Platform;
use berth_image::metadata::Metadata;
use berth_image::registry::client::{Client, Credentials};
use berth_image::registry::credentials;
use berth_image::registry::push::{self, LayerPushed, PushOptions, Pushed};
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Reference};

impl Engine {
    fn md(&self) -> Result<Metadata> {
        Ok(Metadata::open(&self.root.join("berth.db"))?)
    }

    fn content(&self) -> Result<ContentStore> {
        Ok(ContentStore::open(self.root.join("content"))?)
    }

    /// What `save` of these arguments writes: a repository name without tag or digest means
    /// every tag of it (as `docker save busybox`); anything else names one image.
    pub fn save_items(&self, args: &[String]) -> Result<Vec<Saved>> {
        let md = self.md()?;
        let mut wanted = Vec::new();
        for arg in args {
            for t in save_targets(&md, arg)? {
                let name = match &t {
                    Target::Name(full, _) => Some(full.clone()),
                    Target::RepoDigest(..) | Target::Id(_) => None,
                };
                wanted.push((t.image().clone(), name));
            }
        }
        let mut items: Vec<Saved> = Vec::new();
        for (img, name) in wanted {
            match items.iter_mut().find(|i| i.image.id == img.id) {
                Some(i) => i.names.extend(name),
                None => items.push(Saved {
                    image: img,
                    names: name.into_iter().collect(),
                }),
            }
        }
        for i in &mut items {
            i.names.dedup();
        }
        Ok(items)
    }

    /// Writes the archive of `items` (see [`Engine::save_items`]) to `out`.
    pub fn save(&self, items: &[Saved], out: impl std::io::Write) -> Result<()> {
        archive::save(&self.content()?, items, out)?;
        self.saved(items);
        Ok(())
    }

    /// Writes the archive of `items` to the file at `path` (atomically).
    pub fn save_to_file(&self, items: &[Saved], path: &std::path::Path) -> Result<()> {
        archive::save_to_file(&self.content()?, items, path)?;
        self.saved(items);
        Ok(())
    }

    fn saved(&self, items: &[Saved]) {
        for i in items {
            let name = i.names.first().map(String::as_str);
            record_event(&self.root, "save", &i.image.id.to_string(), name);
        }
    }

    /// Loads an image archive (Docker's, an OCI layout's) from `input`.
    pub fn load(&self, input: impl std::io::Read) -> Result<Vec<Loaded>> {
        let snaps = Snapshotter::open(self.root.join("snapshots"))?;
        let loaded = archive::load(
            input,
            &self.content()?,
            &snaps,
            &self.md()?,
            &Platform::host(),
        )?;
        for l in &loaded {
            let name = l.names.first().map(String::as_str);
            record_event(&self.root, "load", &l.id.to_string(), name);
        }
        Ok(loaded)
    }

    /// Makes an image of one layer from the root filesystem tarball `input` (plain or
    /// compressed), named `reference` when given (never a digest reference).
    pub fn import(
        &self,
        input: impl std::io::Read,
        reference: Option<&str>,
        opts: &berth_image::import::ImportOptions,
    ) -> Result<berth_image::Digest> {
        let name = match reference {
            Some(r) => {
                let r: Reference = r.parse()?;
                if r.digest().is_some() {
                    return Err(Error::InvalidArgument(format!(
                        "refusing to import under a digest reference: {r}"
                    )));
                }
                Some(r.to_string())
            }
            None => None,
        };
        let md = self.md()?;
        let snaps = Snapshotter::open(self.root.join("snapshots"))?;
        let id = berth_image::import::import(input, &self.content()?, &snaps, &md, opts)?;
        if let Some(n) = &name {
            md.set_name(n, &id)?;
        }
        record_event(&self.root, "import", &id.to_string(), name.as_deref());
        Ok(id)
    }

    /// Pushes the local name `reference` to its registry with `creds` (else those of the
    /// docker config file), telling `on_layer` of each layer.
    pub fn push(
        &self,
        reference: &str,
        creds: Option<Credentials>,
        opts: &PushOptions,
        on_layer: &mut dyn FnMut(&berth_image::Digest, &LayerPushed),
    ) -> Result<Pushed> {
        let r: Reference = reference.parse()?;
        let (store, md) = (self.content()?, self.md()?);
        let rec = md.get(&r.to_string())?.ok_or_else(|| Error::NotFound {
            kind: "image",
            name: reference.to_string(),
        })?;
        let creds = match creds {
            Some(c) => Some(c),
            None => credentials::load(&credentials::config_path(), r.domain())?,
        };
        let client = Client::new(Vec::new(), creds);
        let mounts = push::mount_sources(&md, &store, &r)?;
        let pushed = push::push(&client, &r, &store, &rec.manifest, &mounts, opts, on_layer)?;
        record_event(&self.root, "push", &r.to_string(), Some(&r.to_string()));
        Ok(pushed)
    }
}

fn save_targets(md: &Metadata, arg: &str) -> Result<Vec<Target>> {
    let last = arg.rsplit('/').next().unwrap_or(arg);
    if !last.contains(':') && !arg.contains('@') {
        if let Ok(r) = arg.parse::<Reference>() {
            let repo = r.name();
            let mut found = Vec::new();
            for rec in md.list()? {
                if berth_image::metadata::repository_of(&rec.name) == repo {
                    if let Some(img) = md.image(&rec.config)? {
                        found.push(Target::Name(rec.name, img));
                    }
                }
            }
            if !found.is_empty() {
                return Ok(found);
            }
        }
    }
    Ok(vec![resolve(md, arg)?])
}
