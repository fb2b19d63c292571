//! The store's knowledge as chunks: Markdown documents with front matter, cut at their
//! numbered sections (`## 2. Condition of returned items`), long sections into overlapping
//! windows; and the catalogue's products, one chunk each.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// One retrievable passage and what it is cited as.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Stable across ingests: derived from document, language, section and part.
    pub id: u64,
    /// The document id (`returns`), or `product:SKU-0042`.
    pub doc: String,
    pub title: String,
    /// The section number (`## 2.`); 0 for products.
    pub section: u32,
    pub heading: String,
    pub language: String,
    /// `policy`, `faq` or `product`.
    pub doc_type: String,
    /// The day the document takes effect (`2026-09-01`); empty for products.
    pub effective: String,
    /// The passage as shown and embedded (title and heading first).
    pub text: String,
    /// Changes whenever anything embedded or shown changes: unchanged chunks are skipped.
    pub hash: String,
}

impl Chunk {
    /// "Returns and refunds §2", built from metadata, never from model output.
    pub fn citation(&self) -> String {
        citation(&self.title, self.section)
    }

    fn new(doc: &Document, section: u32, heading: &str, part: usize, body: &str) -> Chunk {
        let text = format!("{} — {}\n{}", doc.title, heading, body.trim());
        let key = format!("{}|{}|{}|{}", doc.id, doc.language, section, part);
        Chunk {
            id: stable_id(&key),
            doc: doc.id.clone(),
            title: doc.title.clone(),
            section,
            heading: heading.to_string(),
            language: doc.language.clone(),
            doc_type: doc.doc_type.clone(),
            effective: doc.effective.clone(),
            hash: digest(&format!("{}|{}|{}", doc.version, doc.effective, text)),
            text,
        }
    }
}

/// How a passage is cited: the title, and `§N` for a numbered section (products have none).
pub fn citation(title: &str, section: u32) -> String {
    if section == 0 {
        title.to_string()
    } else {
        format!("{title} §{section}")
    }
}

/// A document's front matter and body.
#[derive(Debug, Clone)]
pub struct Document {
    pub path: PathBuf,
    pub id: String,
    pub title: String,
    pub language: String,
    pub version: String,
    pub effective: String,
    pub doc_type: String,
    pub body: String,
}

/// A section longer than this is cut into windows of about this many characters.
const WINDOW_CHARS: usize = 1200;

/// Every `*.md` under `dir` (recursively), parsed; the error names the file and line.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Document>> {
    let mut paths = Vec::new();
    collect_markdown(dir, &mut paths).map_err(|e| {
        anyhow::anyhow!("cannot read the knowledge directory {}: {e}", dir.display())
    })?;
    paths.sort();
    paths.iter().map(|p| parse(p)).collect()
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_markdown(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses one document; malformed front matter is reported as `file:line: problem`.
pub fn parse(path: &Path) -> anyhow::Result<Document> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read it ({e})", path.display()))?;
    let at = |line: usize, problem: &str| anyhow::anyhow!("{}:{line}: {problem}", path.display());
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l.trim()) != Some("---") {
        return Err(at(
            1,
            "a knowledge document starts with front matter between --- lines",
        ));
    }
    let mut fields = std::collections::HashMap::new();
    let mut body_start = None;
    for (i, line) in lines.by_ref() {
        if line.trim() == "---" {
            body_start = Some(i + 1);
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(at(i + 1, &format!("`{line}` is not `key: value`")));
        };
        fields.insert(
            key.trim().to_string(),
            value.trim().trim_matches('"').to_string(),
        );
    }
    let Some(body_start) = body_start else {
        return Err(at(1, "the front matter has no closing --- line"));
    };
    let mut field = |key: &str| {
        fields
            .remove(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| at(1, &format!("the front matter needs `{key}`")))
    };
    let effective = field("effective")?;
    if chrono::NaiveDate::parse_from_str(&effective, "%Y-%m-%d").is_err() {
        return Err(at(
            1,
            &format!("effective `{effective}` is not a date like 2026-09-01"),
        ));
    }
    Ok(Document {
        path: path.to_path_buf(),
        id: field("id")?,
        title: field("title")?,
        language: field("language")?,
        version: field("version")?,
        effective,
        doc_type: field("type").unwrap_or_else(|_| "policy".into()),
        body: text.lines().skip(body_start).collect::<Vec<_>>().join("\n"),
    })
}

/// The document's chunks: one per numbered section, long sections in overlapping windows.
pub fn chunk(doc: &Document) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for (section, heading, body) in sections(&doc.body) {
        for (part, window) in windows(&body).into_iter().enumerate() {
            chunks.push(Chunk::new(doc, section, &heading, part, &window));
        }
    }
    chunks
}

/// (number, heading, body) of each `## N. Heading` section.
fn sections(body: &str) -> Vec<(u32, String, String)> {
    let mut out: Vec<(u32, String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            let (number, heading) = rest.split_once(". ").unwrap_or(("0", rest));
            let number = number.trim().parse().unwrap_or(out.len() as u32 + 1);
            out.push((number, heading.trim().to_string(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.2.push_str(line);
            last.2.push('\n');
        }
    }
    out
}

/// Paragraph windows of about [`WINDOW_CHARS`], each starting with the previous window's
/// last paragraph, so a sentence that spans a cut is found either way.
fn windows(body: &str) -> Vec<String> {
    let paragraphs: Vec<&str> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if body.chars().count() <= WINDOW_CHARS || paragraphs.len() < 2 {
        return vec![body.trim().to_string()];
    }
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut size = 0;
    for p in paragraphs {
        if size + p.chars().count() > WINDOW_CHARS && !current.is_empty() {
            out.push(current.join("\n\n"));
            let overlap = *current.last().expect("not empty");
            current = vec![overlap];
            size = overlap.chars().count();
        }
        current.push(p);
        size += p.chars().count();
    }
    if current.len() > 1 || out.is_empty() {
        out.push(current.join("\n\n"));
    }
    out
}

/// A product of the catalogue as a chunk (English, and Chinese when it has a Chinese title).
pub fn product_chunks(
    sku: &str,
    title: &str,
    title_zh: Option<&str>,
    description: &str,
    category: &str,
) -> Vec<Chunk> {
    let mut out = Vec::new();
    for (language, name) in [("en", Some(title)), ("zh", title_zh)] {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            continue;
        };
        let doc = Document {
            path: PathBuf::new(),
            id: format!("product:{sku}"),
            title: name.to_string(),
            language: language.to_string(),
            version: "1".into(),
            effective: String::new(),
            doc_type: "product".into(),
            body: String::new(),
        };
        let mut chunk = Chunk::new(&doc, 0, sku, 0, &format!("{category}. {description}"));
        chunk.effective = String::new();
        out.push(chunk);
    }
    out
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A point id from a key: the first 8 bytes of its SHA-256, stable across runs.
fn stable_id(key: &str) -> u64 {
    let hash = Sha256::digest(key.as_bytes());
    u64::from_be_bytes(hash[..8].try_into().expect("8 bytes")) >> 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn documents_are_cut_at_numbered_sections() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "r.md",
            "---\nid: returns\ntitle: Returns\nlanguage: en\nversion: 1\neffective: 2026-09-01\n---\n\n## 1. Who\n\nAnyone.\n\n## 2. When\n\nWithin 30 days.\n",
        );
        let doc = parse(&path).unwrap();
        let chunks = chunk(&doc);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].section, 2);
        assert_eq!(chunks[1].citation(), "Returns §2");
        assert!(
            chunks[1]
                .text
                .starts_with("Returns — When\nWithin 30 days.")
        );
        assert_ne!(chunks[0].id, chunks[1].id);
    }

    #[test]
    fn malformed_front_matter_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "bad.md",
            "---\nid: x\ntitle without colon\n---\n",
        );
        let e = parse(&path).unwrap_err().to_string();
        assert!(e.contains("bad.md:3:"), "{e}");
        let path = write(
            dir.path(),
            "date.md",
            "---\nid: x\ntitle: t\nlanguage: en\nversion: 1\neffective: soon\n---\n",
        );
        assert!(parse(&path).unwrap_err().to_string().contains("not a date"));
    }

    #[test]
    fn long_sections_become_overlapping_windows() {
        let paragraph = "word ".repeat(100);
        let body = [paragraph.trim(); 6].join("\n\n");
        let parts = windows(&body);
        assert!(parts.len() > 1);
        let last_of_first = parts[0].split("\n\n").last().unwrap();
        assert!(parts[1].starts_with(last_of_first));
    }

    #[test]
    fn the_shipped_knowledge_parses_in_both_languages() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let docs = load_dir(&dir).unwrap();
        assert!(docs.iter().filter(|d| d.language == "en").count() >= 9);
        assert!(docs.iter().filter(|d| d.language == "zh").count() >= 9);
        assert!(docs.iter().all(|d| !chunk(d).is_empty()));
    }
}
