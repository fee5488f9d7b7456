//! The demo chain loaded into an empty database: five Montréal stores, the Anjou logistics
//! centre, head office and the online fulfilment location; registers and cashiers per store; a
//! catalogue in several categories with valid barcodes, tax classes, prices and thresholds;
//! opening stock everywhere but head office.

use rand::Rng;
use shared_model::catalogue::{CashierInfo, LocationInfo, ProductInfo};
use shared_model::{Barcode, CashierId, LocationCode, LocationKind, Money, RegisterId, Sku, TaxClass};

use crate::catalogue;
use crate::db::Db;
use crate::identity;
use crate::inventory::{self, Move};

const LOCATIONS: &[(&str, LocationKind, &str, &str)] = &[
    ("VMTL", LocationKind::Store, "Vieux-Montréal", "400, rue Saint-Paul Ouest, Montréal (QC) H2Y 2A6"),
    (
        "PLAT",
        LocationKind::Store,
        "Plateau Mont-Royal",
        "4380, boulevard Saint-Laurent, Montréal (QC) H2W 1Z5",
    ),
    (
        "QDS",
        LocationKind::Store,
        "Quartier des Spectacles",
        "305, rue Sainte-Catherine Ouest, Montréal (QC) H2X 2A1",
    ),
    ("MILE", LocationKind::Store, "Mile End", "5240, boulevard Saint-Laurent, Montréal (QC) H2T 1S1"),
    ("WMT", LocationKind::Store, "Westmount", "4800, rue Sherbrooke Ouest, Westmount (QC) H3Z 1G7"),
    (
        "ANJOU",
        LocationKind::Logistics,
        "Centre logistique d'Anjou",
        "8000, boulevard Métropolitain Est, Anjou (QC) H1K 1A1",
    ),
    (
        "HQ",
        LocationKind::HeadOffice,
        "Siège social",
        "1000, rue De La Gauchetière Ouest, Montréal (QC) H3B 4W5",
    ),
    (
        "WEB",
        LocationKind::Online,
        "Boutique en ligne",
        "8010, boulevard Métropolitain Est, Anjou (QC) H1K 1A1",
    ),
];

/// What the demo chain's receipts print of it: made-up numbers of the right form.
fn demo_chain() -> anyhow::Result<shared_model::chain::ChainInfo> {
    use shared_model::chain::{ChainInfo, GstNumber, LegalName, QstNumber};
    Ok(ChainInfo {
        legal_name: Some(LegalName::parse("Épiceries Caisse Montréal inc.")?),
        gst_number: Some(GstNumber::parse("784512396 RT 0001")?),
        qst_number: Some(QstNumber::parse("1218457703 TQ 0001")?),
    })
}

/// Registers per store.
const REGISTERS: &[(&str, u8)] = &[("VMTL", 3), ("PLAT", 2), ("QDS", 3), ("MILE", 2), ("WMT", 2)];

const CASHIERS: &[(&str, &str)] = &[
    ("VMTL", "Camille Tremblay"),
    ("VMTL", "Olivier Gagnon"),
    ("PLAT", "Léa Roy"),
    ("PLAT", "Samuel Côté"),
    ("QDS", "Chloé Bouchard"),
    ("QDS", "William Gauthier"),
    ("MILE", "Florence Morin"),
    ("MILE", "Thomas Lavoie"),
    ("WMT", "Alice Fortin"),
    ("WMT", "Félix Gagné"),
];

const ZERO: TaxClass = TaxClass::ZeroRated;
const STD: TaxClass = TaxClass::Standard;
const BOOK: TaxClass = TaxClass::GstOnly;

/// (sku, name, category, price in cents, tax class, reorder threshold)
const PRODUCTS: &[(&str, &str, &str, i64, TaxClass, u32)] = &[
    ("CAF-ESP-250", "Café espresso en grains 250 g", "Café et thé", 1_299, ZERO, 8),
    ("CAF-MOU-340", "Café moulu mi-corsé 340 g", "Café et thé", 1_049, ZERO, 8),
    ("THE-VRT-20", "Thé vert, 20 sachets", "Café et thé", 579, ZERO, 6),
    ("TAS-CER-350", "Tasse en céramique 350 ml", "Maison", 1_495, STD, 4),
    ("LAI-2L", "Lait 2 % 2 L", "Épicerie", 529, ZERO, 10),
    ("PAI-BAG", "Baguette tradition", "Épicerie", 349, ZERO, 10),
    ("SIR-ERA-540", "Sirop d'érable 540 ml", "Épicerie", 1_199, ZERO, 6),
    ("POM-1K", "Pommes Cortland 1 kg", "Épicerie", 399, ZERO, 10),
    ("CHO-NOI-100", "Chocolat noir 70 % 100 g", "Épicerie", 449, STD, 8),
    ("CHI-ERA-200", "Croustilles à l'érable 200 g", "Épicerie", 379, STD, 8),
    ("EAU-PET-1L", "Eau pétillante 1 L", "Épicerie", 229, STD, 12),
    ("FRO-OKA-200", "Fromage Oka 200 g", "Épicerie", 999, ZERO, 6),
    ("LIV-REC-QC", "Recettes québécoises", "Librairie", 2_995, BOOK, 3),
    ("LIV-ROM-POC", "Roman de poche", "Librairie", 1_495, BOOK, 4),
    ("LIV-GUI-MTL", "Guide de Montréal", "Librairie", 2_495, BOOK, 3),
    ("LIV-JEU-ENF", "Album jeunesse illustré", "Librairie", 1_999, BOOK, 3),
    ("STY-BIL-10", "Stylos à bille, paquet de 10", "Papeterie", 649, STD, 6),
    ("CAH-NOT-A5", "Carnet de notes A5", "Papeterie", 899, STD, 6),
    ("AGE-2027", "Agenda 2027", "Papeterie", 1_699, STD, 4),
    ("CRA-COU-24", "Crayons de couleur, 24", "Papeterie", 949, STD, 5),
    ("BOU-SOJ-LAV", "Bougie de soja à la lavande", "Maison", 1_850, STD, 4),
    ("SAV-LAV", "Savon à la lavande", "Maison", 425, STD, 8),
    ("LIN-VAI", "Linge à vaisselle en lin", "Maison", 1_200, STD, 5),
    ("PLA-ERA", "Planche à découper en érable", "Maison", 3_499, STD, 3),
    ("CSQ-BT", "Casque Bluetooth", "Électronique", 5_999, STD, 3),
    ("CAB-USBC-1M", "Câble USB-C 1 m", "Électronique", 1_499, STD, 6),
    ("CHG-USB-20W", "Chargeur USB 20 W", "Électronique", 2_499, STD, 4),
    ("PIL-AA-8", "Piles AA, paquet de 8", "Électronique", 1_149, STD, 8),
    ("HP-PORT", "Haut-parleur portable", "Électronique", 4_999, STD, 3),
    ("TSH-MTL-M", "T-shirt Montréal, moyen", "Vêtements", 2_499, STD, 4),
    ("TUQ-LAI", "Tuque en laine", "Vêtements", 2_999, STD, 4),
    ("MIT-HIV", "Mitaines d'hiver", "Vêtements", 3_499, STD, 4),
    ("CHA-LAI", "Chaussettes de laine", "Vêtements", 1_299, STD, 6),
    ("FOU-TRI", "Foulard tricoté", "Vêtements", 3_999, STD, 3),
    ("BAU-LEV", "Baume à lèvres", "Beauté", 399, STD, 8),
    ("CRE-MAI", "Crème pour les mains", "Beauté", 999, STD, 5),
];

/// What a person needs to use the demo: printed once, when it is loaded.
#[derive(Debug)]
pub struct Credentials {
    pub cashiers: Vec<(u32, String, String, String)>,
    pub products: usize,
    pub locations: usize,
}

pub fn demo_products() -> Vec<ProductInfo> {
    PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, &(sku, name, category, cents, tax_class, threshold))| {
            // Books carry ISBN-13 (978…) codes; other goods codes under a Canadian GS1 prefix.
            let body = if tax_class == BOOK {
                format!("97828{:07}", 1_000 + i)
            } else {
                format!("7550{:08}", 10_000 + i)
            };
            ProductInfo {
                sku: Sku::parse(sku).expect("demo SKUs are valid"),
                name: name.into(),
                category: category.into(),
                barcodes: vec![Barcode::with_check_digit(&body).expect("demo barcodes are valid")],
                price: Money::cents(cents),
                tax_class,
                reorder_threshold: threshold,
                active: true,
            }
        })
        .collect()
}

/// Opening stock of a product at a location; deterministic so the demo is the same every time.
fn opening(location_index: i64, product_index: i64, kind: LocationKind) -> i64 {
    let spread = (location_index * 7 + product_index * 13) % 30;
    match kind {
        LocationKind::Store => 12 + spread,
        LocationKind::Logistics => 240 + spread * 4,
        LocationKind::Online => 40 + spread,
        LocationKind::HeadOffice => 0,
    }
}

#[tracing::instrument(skip_all)]
pub async fn is_loaded(db: &Db) -> anyhow::Result<bool> {
    Ok(catalogue::has_locations(db).await?)
}

/// Loads the demo chain into an empty database.
#[tracing::instrument(skip_all)]
pub async fn load(db: &Db) -> anyhow::Result<Credentials> {
    let mut rng = rand::rng();
    // Cashier numbers from 1001, in the order of the list.
    let cashiers: Vec<(u32, String, String, String)> = (1001..)
        .zip(CASHIERS)
        .map(|(id, (store, name))| {
            (id, (*name).to_owned(), (*store).to_owned(), format!("{:04}", rng.random_range(0..10_000)))
        })
        .collect();
    // argon2 is slow on purpose: hash the PINs off the async workers.
    let pins: Vec<String> = cashiers.iter().map(|c| c.3.clone()).collect();
    let hashes = tokio::task::spawn_blocking(move || {
        pins.iter().map(|p| identity::hash_password(p)).collect::<anyhow::Result<Vec<_>>>()
    })
    .await??;

    let mut tx = db.begin().await?;
    for &(code, kind, name, address) in LOCATIONS {
        let info = LocationInfo {
            code: LocationCode::parse(code)?,
            kind,
            name: name.into(),
            address: address.into(),
        };
        catalogue::save_location(&mut tx, &info).await?;
    }
    let products = demo_products();
    for product in &products {
        catalogue::write_product(&mut tx, product).await?;
    }
    for ((id, name, store, _), pin_hash) in cashiers.iter().zip(hashes) {
        let info = CashierInfo {
            id: CashierId::new(*id)?,
            name: name.clone(),
            store: Some(LocationCode::parse(store)?),
            pin_hash,
            active: true,
        };
        catalogue::save_cashier(&mut tx, &info).await?;
    }
    let mut moves = Vec::new();
    for (li, &(code, kind, ..)) in (0..).zip(LOCATIONS) {
        let location = LocationCode::parse(code)?;
        for (pi, product) in (0..).zip(&products) {
            let quantity = opening(li, pi, kind);
            if quantity > 0 {
                moves.push(Move {
                    location: location.clone(),
                    sku: product.sku.clone(),
                    delta: quantity,
                    kind: "opening",
                    record_id: None,
                });
            }
        }
    }
    crate::chain::load(&mut tx, &demo_chain()?).await?;
    let entries = inventory::apply(&mut tx, &moves).await?;
    crate::feed::publish(&mut tx, entries).await?;
    tx.commit().await?;

    for &(store, count) in REGISTERS {
        let store = LocationCode::parse(store)?;
        for number in 1..=count {
            identity::add_register(db, &RegisterId::new(&store, number)?).await?;
        }
    }
    Ok(Credentials { cashiers, products: products.len(), locations: LOCATIONS.len() })
}

/// Fresh enrolment codes for every register that has never enrolled.
/// Enrolment codes of the registers not enrolled yet.
#[derive(Debug, Default)]
pub struct DemoCodes {
    /// Codes minted now, to print: (register, code).
    pub fresh: Vec<(String, String)>,
    /// Registers whose code from an earlier start is still live: they get no new one, or
    /// each restart would mint (and print) codes that anyone reading the log could use.
    pub live: Vec<String>,
}

#[tracing::instrument(skip_all)]
pub async fn codes_for_unenrolled(db: &Db) -> anyhow::Result<DemoCodes> {
    let mut codes = DemoCodes::default();
    for id in identity::unenrolled(db).await? {
        if identity::live_code_expiry(db, &id).await?.is_some() {
            codes.live.push(id.to_string());
            continue;
        }
        let code = identity::issue_enrolment_code(db, &id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        codes.fresh.push((id.to_string(), code));
    }
    Ok(codes)
}
