//! `shopdesk seed --demo`: a deterministic demo store (catalogue, customers, six months of
//! orders, shipments and tracking) for trying shopdesk without a real shop.
//!
//! The data is not just noise: it carries planted signals (a late carrier lane, stock-outs
//! of fast sellers, a fraud ring and legitimate look-alikes of it) so the analytics and chat
//! tools have something true to find, and [`Planted`] records the ground truth that tests
//! and demos check against. Everything comes from one seeded RNG, so the same options give
//! the same rows, byte for byte.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::clock::{DAY, Timestamp};
use crate::store::bulk::{insert, row};
use crate::store::{Store, Tx};

const HOUR: i64 = 3_600;
const FIRST_ORDER_ID: i64 = 1001;
const LINKED_CUSTOMERS: usize = 50;
const FAST_SELLERS: usize = 12;
const STOCKOUTS: usize = 4;
const FRAUD_ACCOUNTS: usize = 15;
const FRAUD_ORDERS: usize = 40;
/// Each of the four look-alike groups places this many recent orders.
const LOOKALIKE_GROUP_ORDERS: usize = 10;
const LATE_CARRIER: &str = "FedEx";
const LATE_REGION: &str = "US-West";
const LATE_WINDOW_DAYS: i64 = 10;
const PLANT_WINDOW_DAYS: i64 = 14;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOptions {
    pub seed: u64,
    pub products: usize,
    pub customers: usize,
    pub orders: usize,
    /// Orders span this many days before `now`.
    pub days: i64,
    pub now: Timestamp,
}

impl SeedOptions {
    /// The demo store `shopdesk seed --demo` writes.
    pub fn demo(now: Timestamp) -> Self {
        SeedOptions {
            seed: 42,
            products: 520,
            customers: 2000,
            orders: 20_000,
            days: 180,
            now,
        }
    }
}

/// What was written, and the signals planted in it.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub products: usize,
    pub customers: usize,
    pub staff: usize,
    pub orders: usize,
    pub order_items: usize,
    pub shipments: usize,
    pub shipment_events: usize,
    pub identities: usize,
    pub elapsed: Duration,
    pub planted: Planted,
}

/// Ground truth for the planted signals, in the ids and names of the written rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planted {
    /// In the last 10 days this carrier's shipments in this region run days past their
    /// promised date, while the carrier elsewhere and other carriers there are on time.
    pub late_carrier: String,
    pub late_region: String,
    pub late_shipment_ids: Vec<i64>,
    /// Fast sellers that sold out a few days ago: stock 0, none reserved.
    pub stockout_skus: Vec<String>,
    /// New accounts sharing one card, foreign IPs, forwarder addresses, rush, big first orders.
    pub fraud_order_ids: Vec<i64>,
    /// Legitimate recent orders that share one or two of the ring's traits.
    pub lookalike_order_ids: Vec<i64>,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.planted;
        writeln!(
            f,
            "Seeded the demo store in {:.1} s:",
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "  {:>6} products", self.products)?;
        writeln!(
            f,
            "  {:>6} customers ({} linked on Telegram)",
            self.customers, self.identities
        )?;
        writeln!(f, "  {:>6} staff (alice, bob, root)", self.staff)?;
        writeln!(
            f,
            "  {:>6} orders with {} items",
            self.orders, self.order_items
        )?;
        writeln!(
            f,
            "  {:>6} shipments with {} tracking events",
            self.shipments, self.shipment_events
        )?;
        writeln!(f, "Planted signals (ground truth for analytics and tests):")?;
        writeln!(
            f,
            "  late deliveries: {} in {}, {} open shipments from the last {LATE_WINDOW_DAYS} days well past their promised date",
            p.late_carrier,
            p.late_region,
            p.late_shipment_ids.len()
        )?;
        writeln!(
            f,
            "  stock-outs: {} (fast sellers, now out of stock)",
            p.stockout_skus.join(", ")
        )?;
        writeln!(
            f,
            "  fraud ring: {} orders from new accounts sharing one card ({})",
            p.fraud_order_ids.len(),
            id_list(&p.fraud_order_ids)
        )?;
        write!(
            f,
            "  look-alikes: {} legitimate orders sharing some of its traits ({})",
            p.lookalike_order_ids.len(),
            id_list(&p.lookalike_order_ids)
        )
    }
}

fn id_list(ids: &[i64]) -> String {
    let shown: Vec<String> = ids.iter().take(5).map(i64::to_string).collect();
    match ids.len().saturating_sub(shown.len()) {
        0 => format!("orders {}", shown.join(", ")),
        more => format!("orders {} and {more} more", shown.join(", ")),
    }
}

/// Writes the demo store into an empty database, in one transaction.
pub async fn seed_demo(
    store: &Store,
    opts: &SeedOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    check_options(opts)?;
    refuse_unless_empty(store).await?;
    progress("generating the demo data");
    let demo = Generator::new(opts).generate();
    let mut tx = store.begin().await?;
    let counts = demo.write(&mut tx, opts.now, progress).await?;
    tx.commit().await.context("committing the demo data")?;
    store.sync_id_sequences().await?;
    Ok(SeedReport {
        elapsed: started.elapsed(),
        planted: demo.planted,
        ..counts
    })
}

fn check_options(opts: &SeedOptions) -> anyhow::Result<()> {
    // Below these sizes the planted signals would drown the ordinary data or not fit.
    if opts.products < 40 || opts.customers < 200 || opts.orders < 1_000 || opts.days < 30 {
        bail!(
            "the demo store needs at least 40 products, 200 customers, 1000 orders and 30 days \
             (got {} products, {} customers, {} orders, {} days)",
            opts.products,
            opts.customers,
            opts.orders,
            opts.days
        );
    }
    if opts.products > CATEGORIES.len() * VARIANTS.len() * COLOURS.len() * 10 {
        bail!(
            "the demo catalogue has room for at most {} products",
            CATEGORIES.len() * VARIANTS.len() * COLOURS.len() * 10
        );
    }
    Ok(())
}

async fn refuse_unless_empty(store: &Store) -> anyhow::Result<()> {
    let checks: [(&str, &'static str); 4] = [
        ("products", "SELECT COUNT(*) FROM products"),
        ("orders", "SELECT COUNT(*) FROM orders"),
        ("customers", "SELECT COUNT(*) FROM customers"),
        ("staff", "SELECT COUNT(*) FROM staff"),
    ];
    for (table, sql) in checks {
        let (count,): (i64,) = sqlx::query_as(sql).fetch_one(store.pool()).await?;
        if count > 0 {
            bail!(
                "the database already holds {count} {table}; the demo seed only fills an empty store. \
                 Use a fresh data directory (or an empty database) and run it again."
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reference data.

struct Category {
    name: &'static str,
    /// (English, Chinese, typical price in whole currency units)
    nouns: [(&'static str, &'static str, i64); 10],
    blurbs: [&'static str; 3],
}

const CATEGORIES: [Category; 7] = [
    Category {
        name: "Electronics",
        nouns: [
            ("Wireless Earbuds", "无线耳机", 79),
            ("Bluetooth Speaker", "蓝牙音箱", 59),
            ("Power Bank", "充电宝", 35),
            ("USB-C Charger", "USB-C充电器", 25),
            ("Smart Watch", "智能手表", 199),
            ("Mechanical Keyboard", "机械键盘", 109),
            ("Wireless Mouse", "无线鼠标", 29),
            ("HD Webcam", "高清摄像头", 69),
            ("Noise-Cancelling Headphones", "降噪耳机", 249),
            ("Tablet Stand", "平板支架", 19),
        ],
        blurbs: [
            "Includes a 12-month warranty and a USB-C cable.",
            "Works with iOS and Android.",
            "Ships with a quick-start guide in English and Chinese.",
        ],
    },
    Category {
        name: "Home & Kitchen",
        nouns: [
            ("Chef's Knife", "厨师刀", 49),
            ("Frying Pan", "煎锅", 39),
            ("Ceramic Mug", "陶瓷马克杯", 12),
            ("Electric Kettle", "电水壶", 45),
            ("Cutting Board", "砧板", 22),
            ("Storage Jars (set of 3)", "储物罐（三件套）", 28),
            ("Bath Towel", "浴巾", 18),
            ("Throw Pillow", "抱枕", 24),
            ("Scented Candle", "香薰蜡烛", 16),
            ("Rice Cooker", "电饭煲", 89),
        ],
        blurbs: [
            "Dishwasher safe.",
            "Made from food-grade materials.",
            "Easy to clean and built to last.",
        ],
    },
    Category {
        name: "Apparel",
        nouns: [
            ("T-Shirt", "T恤", 19),
            ("Hoodie", "连帽衫", 45),
            ("Running Shoes", "跑鞋", 89),
            ("Rain Jacket", "雨衣", 79),
            ("Wool Scarf", "羊毛围巾", 35),
            ("Baseball Cap", "棒球帽", 22),
            ("Denim Jeans", "牛仔裤", 59),
            ("Knit Sweater", "针织毛衣", 55),
            ("Socks (3 pairs)", "袜子（三双装）", 12),
            ("Backpack", "双肩包", 49),
        ],
        blurbs: [
            "Machine washable at 30°C.",
            "Regular fit; see the size chart.",
            "Made from a breathable cotton blend.",
        ],
    },
    Category {
        name: "Beauty",
        nouns: [
            ("Face Cream", "面霜", 32),
            ("Lip Balm", "润唇膏", 6),
            ("Shampoo", "洗发水", 14),
            ("Sunscreen SPF 50", "防晒霜SPF50", 18),
            ("Hand Cream", "护手霜", 9),
            ("Sheet Masks (5 pack)", "面膜（五片装）", 15),
            ("Hair Dryer", "吹风机", 69),
            ("Eau de Parfum", "香水", 85),
            ("Body Lotion", "身体乳", 16),
            ("Nail Polish", "指甲油", 8),
        ],
        blurbs: [
            "Dermatologically tested.",
            "Suitable for sensitive skin.",
            "Cruelty-free formula.",
        ],
    },
    Category {
        name: "Sports & Outdoors",
        nouns: [
            ("Yoga Mat", "瑜伽垫", 29),
            ("Water Bottle", "运动水壶", 19),
            ("Camping Tent", "露营帐篷", 159),
            ("Dumbbell Set", "哑铃套装", 79),
            ("Jump Rope", "跳绳", 12),
            ("Cycling Gloves", "骑行手套", 24),
            ("Trekking Poles", "登山杖", 45),
            ("Sleeping Bag", "睡袋", 89),
            ("Fitness Tracker", "运动手环", 59),
            ("Swim Goggles", "泳镜", 15),
        ],
        blurbs: [
            "Lightweight and durable.",
            "Tested for outdoor use.",
            "Comes with a carry bag.",
        ],
    },
    Category {
        name: "Toys & Games",
        nouns: [
            ("Building Blocks", "积木", 39),
            ("Jigsaw Puzzle (1000 pieces)", "拼图（1000片）", 19),
            ("Plush Bear", "毛绒熊", 22),
            ("Board Game", "桌游", 35),
            ("RC Car", "遥控车", 59),
            ("Kite", "风筝", 15),
            ("Art Set", "绘画套装", 29),
            ("Card Game", "纸牌游戏", 12),
            ("Science Kit", "科学实验套装", 42),
            ("Wooden Train Set", "木制火车套装", 49),
        ],
        blurbs: [
            "For ages 6 and up.",
            "Made from non-toxic materials.",
            "Batteries not included.",
        ],
    },
    Category {
        name: "Books & Stationery",
        nouns: [
            ("Notebook", "笔记本", 9),
            ("Fountain Pen", "钢笔", 35),
            ("Weekly Planner", "周计划本", 16),
            ("Sketchbook", "素描本", 12),
            ("Gel Pens (12 pack)", "中性笔（12支装）", 10),
            ("Desk Organizer", "桌面收纳盒", 25),
            ("Cookbook", "菜谱", 29),
            ("Travel Guide", "旅行指南", 22),
            ("Bookmark Set", "书签套装", 7),
            ("Calligraphy Set", "书法套装", 39),
        ],
        blurbs: [
            "Acid-free paper.",
            "A thoughtful gift.",
            "Compact enough for travel.",
        ],
    },
];

/// (English, Chinese, price in percent of the noun's typical price)
const VARIANTS: [(&str, &str, i64); 8] = [
    ("Classic", "经典款", 100),
    ("Pro", "专业版", 140),
    ("Lite", "轻便款", 75),
    ("Deluxe", "豪华款", 160),
    ("Mini", "迷你款", 70),
    ("Eco", "环保款", 110),
    ("Travel", "旅行款", 90),
    ("Premium", "高级款", 180),
];

const COLOURS: [(&str, &str); 8] = [
    ("Black", "黑色"),
    ("White", "白色"),
    ("Navy", "藏青色"),
    ("Red", "红色"),
    ("Green", "绿色"),
    ("Grey", "灰色"),
    ("Pink", "粉色"),
    ("Sand", "沙色"),
];

const FIRST_NAMES: [&str; 40] = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Daniel",
    "Karen",
    "Matthew",
    "Emily",
    "Anthony",
    "Olivia",
    "Mark",
    "Emma",
    "Paul",
    "Sophia",
    "Steven",
    "Grace",
    "Andrew",
    "Chloe",
    "Lucas",
    "Hannah",
    "Noah",
    "Mia",
    "Ethan",
    "Ava",
    "Liam",
    "Zoe",
];

const LAST_NAMES: [&str; 40] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Evans",
];

/// (hanzi, pinyin)
const ZH_FAMILY_NAMES: [(&str, &str); 20] = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("高", "gao"),
];

const ZH_GIVEN_NAMES: [(&str, &str); 30] = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("华", "hua"),
    ("慧", "hui"),
    ("建华", "jianhua"),
    ("晓明", "xiaoming"),
    ("子涵", "zihan"),
    ("雨桐", "yutong"),
    ("浩然", "haoran"),
    ("欣怡", "xinyi"),
    ("梓轩", "zixuan"),
    ("思远", "siyuan"),
    ("佳怡", "jiayi"),
    ("宇航", "yuhang"),
];

#[derive(Clone, Copy)]
struct City {
    /// Where tracking events say a parcel is.
    place: &'static str,
    /// The address after the street.
    tail: &'static str,
    country: &'static str,
    region: &'static str,
}

const fn city(
    place: &'static str,
    tail: &'static str,
    country: &'static str,
    region: &'static str,
) -> City {
    City {
        place,
        tail,
        country,
        region,
    }
}

const CITIES: [City; 30] = [
    city("Seattle, WA", "Seattle, WA 98101", "US", "US-West"),
    city("Portland, OR", "Portland, OR 97205", "US", "US-West"),
    city(
        "San Francisco, CA",
        "San Francisco, CA 94103",
        "US",
        "US-West",
    ),
    city("Los Angeles, CA", "Los Angeles, CA 90012", "US", "US-West"),
    city("San Diego, CA", "San Diego, CA 92101", "US", "US-West"),
    city("Denver, CO", "Denver, CO 80202", "US", "US-West"),
    city("New York, NY", "New York, NY 10001", "US", "US-East"),
    city("Boston, MA", "Boston, MA 02108", "US", "US-East"),
    city("Chicago, IL", "Chicago, IL 60601", "US", "US-East"),
    city("Atlanta, GA", "Atlanta, GA 30303", "US", "US-East"),
    city("Miami, FL", "Miami, FL 33130", "US", "US-East"),
    city(
        "Philadelphia, PA",
        "Philadelphia, PA 19103",
        "US",
        "US-East",
    ),
    city("London, GB", "London EC1A 1BB", "GB", "EU"),
    city("Manchester, GB", "Manchester M1 1AE", "GB", "EU"),
    city("Berlin, DE", "10115 Berlin", "DE", "EU"),
    city("Munich, DE", "80331 München", "DE", "EU"),
    city("Paris, FR", "75002 Paris", "FR", "EU"),
    city("Lyon, FR", "69002 Lyon", "FR", "EU"),
    city("Amsterdam, NL", "1012 AB Amsterdam", "NL", "EU"),
    city("Madrid, ES", "28013 Madrid", "ES", "EU"),
    city("Milan, IT", "20121 Milano", "IT", "EU"),
    city(
        "Beijing, CN",
        "Chaoyang District, Beijing 100020",
        "CN",
        "CN-North",
    ),
    city(
        "Tianjin, CN",
        "Heping District, Tianjin 300041",
        "CN",
        "CN-North",
    ),
    city(
        "Qingdao, CN",
        "Shinan District, Qingdao 266001",
        "CN",
        "CN-North",
    ),
    city(
        "Shanghai, CN",
        "Pudong New Area, Shanghai 200120",
        "CN",
        "CN-South",
    ),
    city(
        "Guangzhou, CN",
        "Tianhe District, Guangzhou 510620",
        "CN",
        "CN-South",
    ),
    city(
        "Shenzhen, CN",
        "Nanshan District, Shenzhen 518052",
        "CN",
        "CN-South",
    ),
    city(
        "Hangzhou, CN",
        "Xihu District, Hangzhou 310013",
        "CN",
        "CN-South",
    ),
    city("Sydney, AU", "Sydney NSW 2000", "AU", "APAC"),
    city("Tokyo, JP", "Shibuya-ku, Tokyo 150-0002", "JP", "APAC"),
];

/// Parcel forwarders: a customer ships to the forwarder, which sends the parcel abroad.
const RING_FORWARDERS: [&str; 3] = [
    "c/o ParcelBridge, 1801 NW Front Ave, Suite 114, Portland, OR 97209",
    "c/o ParcelBridge, 1801 NW Front Ave, Suite 229, Portland, OR 97209",
    "c/o ShipNorth Forwarding, 2250 N Marine Dr, Unit 7, Portland, OR 97217",
];
const ORDINARY_FORWARDER: (&str, City) = (
    "c/o MyUS Global, 4423 Pine Island Rd, Suite 208",
    city("Wilmington, DE", "Wilmington, DE 19801", "US", "US-East"),
);
const RING_IP_COUNTRIES: [&str; 3] = ["RO", "NG", "VN"];

fn streets(country: &str) -> &'static [&'static str] {
    match country {
        "CN" => &[
            "Jianguo Rd",
            "Zhongshan Rd",
            "Renmin Rd",
            "Nanjing Rd",
            "Huaihai Rd",
            "Jiefang Ave",
        ],
        "DE" => &["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee"],
        "FR" => &[
            "Rue de la Paix",
            "Rue Victor Hugo",
            "Avenue Jean Jaurès",
            "Rue du Commerce",
        ],
        "NL" => &["Prinsengracht", "Kerkstraat", "Vondelstraat"],
        "ES" => &["Calle Mayor", "Calle de Alcalá", "Calle de Toledo"],
        "IT" => &["Via Roma", "Via Dante", "Corso Buenos Aires"],
        "JP" => &["Jingumae", "Dogenzaka", "Udagawacho"],
        _ => &[
            "Main St", "Oak Ave", "Maple St", "Pine St", "Cedar Rd", "Elm St", "Park Ave",
            "Lake Dr", "Hill Rd",
        ],
    }
}

fn carriers(region: &str) -> &'static [(&'static str, u32)] {
    match region {
        "US-West" | "US-East" => &[("UPS", 30), ("FedEx", 30), ("USPS", 25), ("DHL", 15)],
        "EU" => &[("DHL", 50), ("UPS", 30), ("FedEx", 20)],
        "CN-North" | "CN-South" => &[("SF Express", 85), ("DHL", 15)],
        _ => &[("DHL", 60), ("FedEx", 40)],
    }
}

fn warehouse(region: &str) -> &'static str {
    match region {
        "US-West" => "Reno, NV",
        "US-East" => "Columbus, OH",
        "EU" => "Venlo, NL",
        "CN-North" => "Langfang, CN",
        "CN-South" => "Dongguan, CN",
        _ => "Singapore, SG",
    }
}

fn hubs(region: &str) -> &'static [&'static str] {
    match region {
        "US-West" => &["Oakland, CA", "Ontario, CA", "Kent, WA"],
        "US-East" => &["Newark, NJ", "Memphis, TN", "Louisville, KY"],
        "EU" => &["Leipzig, DE", "Cologne, DE", "Roissy, FR"],
        "CN-North" => &["Beijing Shunyi, CN", "Tianjin, CN"],
        "CN-South" => &["Shenzhen Bao'an, CN", "Guangzhou Baiyun, CN"],
        _ => &["Sydney Mascot, AU", "Tokyo Narita, JP"],
    }
}

/// Typical days from pickup to the door that the store promises.
fn promise_days(rng: &mut ChaCha8Rng, region: &str, carrier: &str, rush: bool) -> i64 {
    let (lo, hi) = match region {
        "CN-North" | "CN-South" => (1, 3),
        "EU" => (3, 5),
        "APAC" => (5, 8),
        _ if carrier == "USPS" => (3, 5),
        _ => (2, 4),
    };
    if rush {
        (lo - 1).max(1)
    } else {
        rng.random_range(lo..=hi)
    }
}

fn tracking_number(rng: &mut ChaCha8Rng, carrier: &str, shipment_id: i64) -> String {
    // The shipment id inside keeps numbers unique; the random part makes them look real.
    match carrier {
        "UPS" => format!(
            "1Z{:06X}03{shipment_id:08}",
            rng.random_range(0..0x0100_0000u32)
        ),
        "FedEx" => format!("{:04}{shipment_id:08}", rng.random_range(0..10_000u32)),
        "USPS" => format!(
            "9400{:010}{shipment_id:08}",
            rng.random_range(0..10_000_000_000u64)
        ),
        "SF Express" => format!("SF{:05}{shipment_id:08}", rng.random_range(0..100_000u32)),
        _ => format!("{:02}{shipment_id:08}", rng.random_range(0..100u32)),
    }
}

// ---------------------------------------------------------------------------------------
// Generation: everything is built in memory first, in a fixed order, then written.

struct Product {
    sku: String,
    title: String,
    title_zh: String,
    description: String,
    category: &'static str,
    price: i64,
    cost: i64,
    floor_price: i64,
    ceiling_price: i64,
    stock: i64,
    reserved: i64,
    reorder_point: i64,
    lead_time_days: i64,
    updated_at: Timestamp,
    /// Relative popularity when customers pick what to buy.
    weight: u64,
    /// After this, nobody can buy it any more.
    sold_out_at: Option<Timestamp>,
}

#[derive(Clone)]
struct Customer {
    zh: bool,
    given: &'static str,
    family: &'static str,
    given_ascii: &'static str,
    family_ascii: &'static str,
    name: String,
    email: String,
    phone: String,
    opt_out: bool,
    created_at: Timestamp,
    city: City,
    address: String,
    preferred_payment: &'static str,
    card: String,
    second_card: Option<String>,
    /// Where this customer's browsing comes from when it is not their own country.
    ip_country: Option<&'static str>,
    /// Relative frequency of ordering; 0 for accounts planted with no history.
    weight: u64,
}

impl Customer {
    fn rename(&mut self, id: i64) {
        self.name = if self.zh {
            format!("{}{}", self.family, self.given)
        } else {
            format!("{} {}", self.given, self.family)
        };
        let domain = if self.zh {
            "example.cn"
        } else {
            ["example.com", "example.net", "example.org"][(id % 3) as usize]
        };
        self.email =
            format!("{}.{}{id}@{domain}", self.given_ascii, self.family_ascii).to_lowercase();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Regular,
    Fraud,
    Lookalike,
}

struct Item {
    product: usize,
    quantity: i64,
    unit_price: i64,
}

struct Order {
    customer: usize,
    created_at: Timestamp,
    updated_at: Timestamp,
    status: &'static str,
    payment_method: &'static str,
    card: Option<String>,
    shipping_name: String,
    address: String,
    city: City,
    ip_country: &'static str,
    forwarder: bool,
    rush: bool,
    items: Vec<Item>,
    tag: Tag,
}

impl Order {
    fn total(&self) -> i64 {
        self.items.iter().map(|i| i.quantity * i.unit_price).sum()
    }
}

struct Shipment {
    order: usize,
    carrier: &'static str,
    tracking_number: String,
    region: &'static str,
    shipped_at: Timestamp,
    promised_at: Timestamp,
    estimated_at: Timestamp,
    delivered_at: Option<Timestamp>,
}

struct Event {
    shipment: usize,
    at: Timestamp,
    location: String,
    description: String,
}

struct Demo {
    products: Vec<Product>,
    customers: Vec<Customer>,
    orders: Vec<Order>,
    shipments: Vec<Shipment>,
    events: Vec<Event>,
    planted: Planted,
}

/// Regular customers picked to play the legitimate look-alikes of the fraud ring.
struct Cast {
    family: Vec<usize>,
    expats: Vec<usize>,
    dormant: Vec<usize>,
    forwarder_users: Vec<usize>,
}

struct Generator {
    rng: ChaCha8Rng,
    opts: SeedOptions,
    /// Start of the order history.
    start: Timestamp,
    products: Vec<Product>,
    /// Cumulative product weights, for weighted picks.
    product_cum: Vec<u64>,
    customers: Vec<Customer>,
}

impl Generator {
    fn new(opts: &SeedOptions) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            opts: opts.clone(),
            start: opts.now - opts.days * DAY,
            products: Vec::new(),
            product_cum: Vec::new(),
            customers: Vec::new(),
        }
    }

    fn generate(mut self) -> Demo {
        let stockouts = self.products();
        let regular = self.opts.customers - FRAUD_ACCOUNTS;
        self.customers(regular);
        let cast = self.cast(regular);
        let ring = self.fraud_accounts();

        let mut orders = self.regular_orders(
            regular,
            self.opts.orders - FRAUD_ORDERS - 4 * LOOKALIKE_GROUP_ORDERS,
        );
        orders.extend(self.fraud_orders(&ring));
        orders.extend(self.lookalike_orders(&cast));
        // Ids follow time, as they would in a live store.
        orders.sort_by_key(|o| o.created_at);

        let (shipments, events, late) = self.fulfil(&mut orders);
        self.reserve(&orders);

        let ids_of = |tag: Tag| -> Vec<i64> {
            orders
                .iter()
                .enumerate()
                .filter(|(_, o)| o.tag == tag)
                .map(|(i, _)| order_id(i))
                .collect()
        };
        let planted = Planted {
            late_carrier: LATE_CARRIER.to_string(),
            late_region: LATE_REGION.to_string(),
            late_shipment_ids: late,
            stockout_skus: stockouts
                .iter()
                .map(|&p| self.products[p].sku.clone())
                .collect(),
            fraud_order_ids: ids_of(Tag::Fraud),
            lookalike_order_ids: ids_of(Tag::Lookalike),
        };
        Demo {
            products: self.products,
            customers: self.customers,
            orders,
            shipments,
            events,
            planted,
        }
    }

    /// Builds the catalogue; returns the stock-outs' indices.
    fn products(&mut self) -> Vec<usize> {
        let rng = &mut self.rng;
        let n = self.opts.products;
        // Every combination of noun, variant and colour per category, shuffled, so titles
        // are unique without retries.
        let mut combos: Vec<Vec<(usize, usize, usize)>> = (0..CATEGORIES.len())
            .map(|_| {
                let mut all: Vec<_> = (0..10)
                    .flat_map(|noun| {
                        (0..VARIANTS.len())
                            .flat_map(move |v| (0..COLOURS.len()).map(move |c| (noun, v, c)))
                    })
                    .collect();
                all.shuffle(rng);
                all
            })
            .collect();
        for i in 0..n {
            let cat = &CATEGORIES[i % CATEGORIES.len()];
            let (noun, v, c) = combos[i % CATEGORIES.len()]
                .pop()
                .expect("checked against the catalogue size");
            let (noun_en, noun_zh, typical) = cat.nouns[noun];
            let (var_en, var_zh, var_pct) = VARIANTS[v];
            let (col_en, col_zh) = COLOURS[c];
            let title = format!("{var_en} {noun_en}, {col_en}");
            // Whole units ending in .99, as shops price.
            let units = (typical * var_pct * rng.random_range(85..=115) / 10_000).max(1);
            let price = units * 100 + 99;
            let cost = price * rng.random_range(35..=60) / 100;
            let floor_price = ((cost * 11 + 9) / 10)
                .max(price * rng.random_range(80..=92) / 100)
                .min(price);
            let ceiling_price = price * rng.random_range(115..=150) / 100;
            let blurb = cat.blurbs[rng.random_range(0..cat.blurbs.len())];
            self.products.push(Product {
                sku: format!("SKU-{:04}", i + 1),
                description: format!("{title}. {blurb}"),
                title,
                title_zh: format!("{var_zh}{noun_zh}（{col_zh}）"),
                category: cat.name,
                price,
                cost,
                floor_price,
                ceiling_price,
                stock: rng.random_range(5..=300),
                reserved: 0,
                reorder_point: rng.random_range(5..=40),
                lead_time_days: rng.random_range(3..=30),
                updated_at: self.start - rng.random_range(0..60 * DAY),
                // Squaring skews popularity: many slow movers, a few steady ones.
                weight: 1 + rng.random_range(0..10u64).pow(2) / 10,
                sold_out_at: None,
            });
        }

        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(rng);
        let fast = &order[..FAST_SELLERS];
        for &p in fast {
            let product = &mut self.products[p];
            product.weight = 60;
            product.stock = rng.random_range(150..=400);
        }
        let stockouts = fast[..STOCKOUTS].to_vec();
        for &p in &stockouts {
            let sold_out = self.opts.now - rng.random_range(2 * DAY..4 * DAY);
            let product = &mut self.products[p];
            product.stock = 0;
            product.sold_out_at = Some(sold_out);
            product.updated_at = sold_out;
        }
        self.product_cum = self
            .products
            .iter()
            .scan(0, |sum, p| {
                *sum += p.weight;
                Some(*sum)
            })
            .collect();
        stockouts
    }

    /// Ordinary customers, ids in sign-up order.
    fn customers(&mut self, count: usize) {
        let rng = &mut self.rng;
        let (start, now) = (self.start, self.opts.now);
        // Most accounts predate the order history; some sign up during it.
        let mut created: Vec<Timestamp> = (0..count)
            .map(|_| {
                if rng.random_ratio(85, 100) {
                    start - rng.random_range(0..700 * DAY)
                } else {
                    rng.random_range(start..now - DAY)
                }
            })
            .collect();
        created.sort_unstable();
        for (i, created_at) in created.into_iter().enumerate() {
            let id = i as i64 + 1;
            let zh = rng.random_ratio(30, 100);
            let country = if zh {
                pick_weighted(
                    rng,
                    &[("CN", 80), ("US", 12), ("GB", 3), ("AU", 3), ("JP", 2)],
                )
            } else {
                pick_weighted(
                    rng,
                    &[
                        ("US", 62),
                        ("GB", 9),
                        ("DE", 7),
                        ("FR", 6),
                        ("NL", 4),
                        ("ES", 4),
                        ("IT", 4),
                        ("AU", 4),
                    ],
                )
            };
            let home = home_city(rng, country);
            let mut customer = new_customer(rng, id, zh, home, created_at);
            customer.preferred_payment = if zh {
                pick_weighted(rng, &[("alipay", 45), ("wechat_pay", 35), ("card", 20)])
            } else {
                pick_weighted(rng, &[("card", 72), ("paypal", 28)])
            };
            customer.second_card = rng.random_ratio(1, 10).then(|| fingerprint(rng));
            customer.weight = 1
                + rng.random_range(0..10u64).pow(2) / 10
                + if rng.random_ratio(1, 10) { 8 } else { 0 };
            self.customers.push(customer);
        }
    }

    /// Picks the look-alike cast among old accounts and shapes them for their part.
    fn cast(&mut self, regular: usize) -> Cast {
        let rng = &mut self.rng;
        let mut old: Vec<usize> = (LINKED_CUSTOMERS..regular)
            .filter(|&c| self.customers[c].created_at < self.start)
            .collect();
        old.shuffle(rng);
        let mut take = |n: usize| old.split_off(old.len() - n);
        let cast = Cast {
            family: take(4),
            expats: take(2),
            dormant: take(10),
            forwarder_users: take(2),
        };

        // A household: one surname, one address, one card shared by everyone.
        let head = self.customers[cast.family[0]].clone();
        let family_card = fingerprint(rng);
        for &c in &cast.family {
            let member = &mut self.customers[c];
            // A given name must match the surname's language.
            if member.zh != head.zh {
                let (given, given_ascii) = if head.zh {
                    ZH_GIVEN_NAMES[rng.random_range(0..ZH_GIVEN_NAMES.len())]
                } else {
                    let g = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
                    (g, g)
                };
                member.given = given;
                member.given_ascii = given_ascii;
                member.zh = head.zh;
            }
            member.family = head.family;
            member.family_ascii = head.family_ascii;
            member.rename(c as i64 + 1);
            member.city = head.city;
            member.address = head.address.clone();
            member.preferred_payment = "card";
            member.card = family_card.clone();
            member.second_card = None;
            member.weight = member.weight.max(3);
        }

        // Expats: their browsing comes from home, their parcels go where they live.
        let expat_homes = [("DE", "GB"), ("CN", "US")];
        for (&c, (lives, browses)) in cast.expats.iter().zip(expat_homes) {
            let home = home_city(rng, lives);
            let expat = &mut self.customers[c];
            expat.address = street_address(rng, home);
            expat.city = home;
            expat.ip_country = Some(browses);
        }

        // Long-standing customers abroad who buy through a US forwarder.
        for (&c, lives) in cast.forwarder_users.iter().zip(["AU", "JP"]) {
            let home = home_city(rng, lives);
            let customer = &mut self.customers[c];
            customer.address = street_address(rng, home);
            customer.city = home;
            customer.weight = customer.weight.max(6);
        }

        // Old accounts that never ordered until one big order now.
        for &c in &cast.dormant {
            self.customers[c].weight = 0;
        }
        cast
    }

    /// The ring's fresh accounts, appended after the ordinary customers.
    fn fraud_accounts(&mut self) -> Vec<usize> {
        let rng = &mut self.rng;
        let now = self.opts.now;
        let mut created: Vec<Timestamp> = (0..FRAUD_ACCOUNTS)
            .map(|_| now - rng.random_range(DAY..(PLANT_WINDOW_DAYS - 1) * DAY))
            .collect();
        created.sort_unstable();
        let ring_card = fingerprint(rng);
        let first = self.customers.len();
        for (k, created_at) in created.into_iter().enumerate() {
            let id = (first + k) as i64 + 1;
            let home = home_city(rng, "US");
            let mut account = new_customer(rng, id, false, home, created_at);
            // Throwaway mailboxes rather than a name-based address.
            account.email = format!(
                "{}{}{}@inbox.example.net",
                account.given_ascii,
                &account.family_ascii[..1],
                4000 + id
            )
            .to_lowercase();
            account.preferred_payment = "card";
            account.card = ring_card.clone();
            account.ip_country = Some(RING_IP_COUNTRIES[k % RING_IP_COUNTRIES.len()]);
            account.weight = 0;
            self.customers.push(account);
        }
        (first..first + FRAUD_ACCOUNTS).collect()
    }

    fn regular_orders(&mut self, regular: usize, count: usize) -> Vec<Order> {
        let (start, days) = (self.start, self.opts.days);
        // Weekends sell more, and the shop grows a little over the period.
        let day_cum: Vec<u64> = (0..days)
            .scan(0u64, |sum, d| {
                let weekday = ((start + d * DAY).div_euclid(DAY) + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
                let week = match weekday {
                    6 => 155,
                    0 => 145,
                    5 => 115,
                    1 => 95,
                    _ => 100,
                };
                let trend = 85 + 30 * d / days;
                let noise = self.rng.random_range(90..=110);
                *sum += (week * trend * noise) as u64;
                Some(*sum)
            })
            .collect();
        const HOUR_WEIGHTS: [u64; 24] = [
            2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 7, 6, 6, 6, 7, 8, 9, 10, 10, 8, 5,
        ];
        let hour_cum: Vec<u64> = HOUR_WEIGHTS
            .iter()
            .scan(0, |s, w| {
                *s += w;
                Some(*s)
            })
            .collect();
        let created: Vec<Timestamp> = self.customers[..regular]
            .iter()
            .map(|c| c.created_at)
            .collect();
        let customer_cum: Vec<u64> = self.customers[..regular]
            .iter()
            .scan(0, |s, c| {
                *s += c.weight;
                Some(*s)
            })
            .collect();

        let mut orders = Vec::with_capacity(count + FRAUD_ORDERS + 4 * LOOKALIKE_GROUP_ORDERS);
        while orders.len() < count {
            let day = pick_cum(&mut self.rng, &day_cum) as i64;
            let hour = pick_cum(&mut self.rng, &hour_cum) as i64;
            let at = start + day * DAY + hour * HOUR + self.rng.random_range(0..HOUR);
            // Only accounts that exist by then can order.
            let eligible = created.partition_point(|&c| c < at);
            if eligible == 0 || customer_cum[eligible - 1] == 0 {
                continue;
            }
            let customer = pick_cum(&mut self.rng, &customer_cum[..eligible]);
            let lines = pick_weighted(&mut self.rng, &[(1, 55), (2, 28), (3, 12), (4, 5)]);
            let items = self.basket(at, lines);
            if items.is_empty() {
                continue;
            }
            let rush = self.rng.random_ratio(5, 100);
            orders.push(self.order(customer, at, items, rush, Tag::Regular));
        }
        orders
    }

    /// Items a customer would pick at `at`, weighted by popularity.
    fn basket(&mut self, at: Timestamp, lines: usize) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::with_capacity(lines);
        for _ in 0..lines * 8 {
            if items.len() == lines {
                break;
            }
            let p = pick_cum(&mut self.rng, &self.product_cum);
            if self.products[p].sold_out_at.is_some_and(|t| at >= t)
                || items.iter().any(|i| i.product == p)
            {
                continue;
            }
            let quantity = pick_weighted(&mut self.rng, &[(1, 80), (2, 15), (3, 5)]);
            items.push(Item {
                product: p,
                quantity,
                unit_price: self.products[p].price,
            });
        }
        items
    }

    /// Expensive items adding up to at least `target` (when the catalogue allows).
    fn big_basket(&mut self, at: Timestamp, target: i64, max_quantity: i64) -> Vec<Item> {
        let mut by_price: Vec<usize> = (0..self.products.len())
            .filter(|&p| self.products[p].sold_out_at.is_none_or(|t| at < t))
            .collect();
        by_price.sort_by_key(|&p| std::cmp::Reverse(self.products[p].price));
        by_price.truncate((self.products.len() / 10).max(5));
        by_price.shuffle(&mut self.rng);
        let mut items: Vec<Item> = Vec::new();
        for p in by_price.into_iter().take(4) {
            let quantity = self.rng.random_range(1..=max_quantity);
            items.push(Item {
                product: p,
                quantity,
                unit_price: self.products[p].price,
            });
            if items.iter().map(|i| i.quantity * i.unit_price).sum::<i64>() >= target {
                return items;
            }
        }
        // Still short: buy more of each, as far as the order allows.
        for i in 0..items.len() {
            let short = target - items.iter().map(|i| i.quantity * i.unit_price).sum::<i64>();
            if short <= 0 {
                break;
            }
            let item = &mut items[i];
            item.quantity =
                (item.quantity + (short + item.unit_price - 1) / item.unit_price).min(max_quantity);
        }
        items
    }

    fn order(
        &mut self,
        customer: usize,
        at: Timestamp,
        items: Vec<Item>,
        rush: bool,
        tag: Tag,
    ) -> Order {
        let rng = &mut self.rng;
        let c = &self.customers[customer];
        let payment_method = if rng.random_ratio(85, 100) {
            c.preferred_payment
        } else if c.zh {
            ["alipay", "wechat_pay", "card"][rng.random_range(0..3)]
        } else {
            ["card", "paypal"][rng.random_range(0..2)]
        };
        let card = (payment_method == "card").then(|| match &c.second_card {
            Some(second) if rng.random_ratio(1, 5) => second.clone(),
            _ => c.card.clone(),
        });
        // A few customers browse from abroad now and then (travel, VPNs).
        let ip_country = c.ip_country.unwrap_or_else(|| {
            if rng.random_ratio(2, 100) {
                CITIES[rng.random_range(0..CITIES.len())].country
            } else {
                c.city.country
            }
        });
        Order {
            customer,
            created_at: at,
            updated_at: at,
            status: "pending",
            payment_method,
            card,
            shipping_name: c.name.clone(),
            address: c.address.clone(),
            city: c.city,
            ip_country,
            forwarder: false,
            rush,
            items,
            tag,
        }
    }

    fn fraud_orders(&mut self, ring: &[usize]) -> Vec<Order> {
        let now = self.opts.now;
        // Every account opens with a big order; the rest of the ring's orders follow.
        let mut plan: Vec<(usize, bool)> = ring.iter().map(|&c| (c, true)).collect();
        while plan.len() < FRAUD_ORDERS {
            plan.push((ring[self.rng.random_range(0..ring.len())], false));
        }
        let mut orders = Vec::with_capacity(FRAUD_ORDERS);
        for (k, (c, first)) in plan.into_iter().enumerate() {
            let created = self.customers[c].created_at;
            let at = if first {
                created + self.rng.random_range(600..6 * HOUR)
            } else {
                self.rng.random_range(created + 8 * HOUR..now - 600)
            };
            let target = if first {
                self.rng.random_range(whole(800)..whole(1500))
            } else {
                self.rng.random_range(whole(400)..whole(900))
            };
            let items = self.big_basket(at, target, 3);
            let mut order = self.order(c, at, items, true, Tag::Fraud);
            let forwarder = RING_FORWARDERS[(c + k) % RING_FORWARDERS.len()];
            order.payment_method = "card";
            order.card = Some(self.customers[c].card.clone());
            order.address = forwarder.to_string();
            order.city = city("Portland, OR", "Portland, OR 97209", "US", "US-West");
            order.forwarder = true;
            orders.push(order);
        }
        orders
    }

    fn lookalike_orders(&mut self, cast: &Cast) -> Vec<Order> {
        let now = self.opts.now;
        let window = now - PLANT_WINDOW_DAYS * DAY;
        let mut orders = Vec::with_capacity(4 * LOOKALIKE_GROUP_ORDERS);
        for k in 0..LOOKALIKE_GROUP_ORDERS {
            // The household's shared card, at home, ordinary baskets.
            let at = self.rng.random_range(window..now - 600);
            let lines = self.rng.random_range(1..=3);
            let items = self.basket(at, lines);
            let member = cast.family[k % cast.family.len()];
            let mut order = self.order(member, at, items, false, Tag::Lookalike);
            order.ip_country = order.city.country;
            order.payment_method = "card";
            order.card = Some(self.customers[member].card.clone());
            orders.push(order);

            // An expat: foreign IP, ordinary delivery to where they live.
            let at = self.rng.random_range(window..now - 600);
            let lines = self.rng.random_range(1..=3);
            let items = self.basket(at, lines);
            orders.push(self.order(
                cast.expats[k % cast.expats.len()],
                at,
                items,
                false,
                Tag::Lookalike,
            ));

            // A long-standing account's first, big order, sometimes rushed.
            let at = self.rng.random_range(window..now - 600);
            let target = self.rng.random_range(whole(500)..whole(1000));
            let items = self.big_basket(at, target, 2);
            let mut order = self.order(
                cast.dormant[k % cast.dormant.len()],
                at,
                items,
                k % 2 == 0,
                Tag::Lookalike,
            );
            order.ip_country = order.city.country;
            orders.push(order);

            // A known customer abroad shipping to a forwarder, as they always have.
            let at = self.rng.random_range(window..now - 600);
            let lines = self.rng.random_range(1..=3);
            let items = self.basket(at, lines);
            let user = cast.forwarder_users[k % cast.forwarder_users.len()];
            let mut order = self.order(user, at, items, false, Tag::Lookalike);
            order.ip_country = self.customers[user].city.country;
            order.address = format!("{}, {}", ORDINARY_FORWARDER.0, ORDINARY_FORWARDER.1.tail);
            order.city = ORDINARY_FORWARDER.1;
            order.forwarder = true;
            orders.push(order);
        }
        orders
    }

    /// Moves each order along its life: payment, cancellation, shipping, delivery, returns.
    /// Returns the shipments, their events and the planted late shipments' ids.
    fn fulfil(&mut self, orders: &mut [Order]) -> (Vec<Shipment>, Vec<Event>, Vec<i64>) {
        let rng = &mut self.rng;
        let now = self.opts.now;
        let mut shipments = Vec::with_capacity(orders.len());
        let mut events = Vec::with_capacity(orders.len() * 4);
        let mut late = Vec::new();
        for (index, o) in orders.iter_mut().enumerate() {
            if rng.random_ratio(3, 100) {
                o.status = "cancelled";
                o.updated_at = (o.created_at + rng.random_range(600..DAY)).min(now);
                continue;
            }
            let handling = if o.rush {
                rng.random_range(2 * HOUR..12 * HOUR)
            } else {
                rng.random_range(6 * HOUR..36 * HOUR)
            };
            let shipped_at = o.created_at + handling;
            if shipped_at >= now {
                let unpaid = now - o.created_at < 3 * HOUR && rng.random_bool(0.5);
                o.status = if unpaid { "pending" } else { "paid" };
                o.updated_at = if unpaid {
                    o.created_at
                } else {
                    (o.created_at + rng.random_range(60..1800)).min(now)
                };
                continue;
            }

            let region = o.city.region;
            let carrier = pick_weighted(rng, carriers(region));
            let shipment = shipments.len();
            let shipment_id = shipment as i64 + 1;
            let days = promise_days(rng, region, carrier, o.rush);
            let promised_at = shipped_at + days * DAY;
            let arrives = if rng.random_ratio(93, 100) {
                promised_at - rng.random_range(0..DAY)
            } else {
                promised_at + rng.random_range(4 * HOUR..30 * HOUR)
            };
            let in_late_lane = carrier == LATE_CARRIER
                && region == LATE_REGION
                && (now - LATE_WINDOW_DAYS * DAY..now - DAY).contains(&shipped_at);
            let planted_late = in_late_lane && rng.random_ratio(85, 100);
            let (estimated_at, delivered_at) = if planted_late {
                let slipped = promised_at + rng.random_range(3..=6) * DAY;
                (
                    if slipped > now {
                        slipped
                    } else {
                        now + rng.random_range(1..=2) * DAY
                    },
                    None,
                )
            } else if arrives <= now {
                (arrives.max(promised_at), Some(arrives))
            } else {
                (promised_at, None)
            };

            let mut push = |at: Timestamp, location: &str, description: String| {
                events.push(Event {
                    shipment,
                    at,
                    location: location.to_string(),
                    description,
                });
            };
            let depot = warehouse(region);
            let hub = hubs(region)[rng.random_range(0..hubs(region).len())];
            let labelled = (shipped_at - rng.random_range(HOUR..4 * HOUR)).max(o.created_at + 60);
            push(labelled, depot, "Shipping label created".to_string());
            push(shipped_at, depot, format!("Picked up by {carrier}"));
            let mut last = shipped_at;
            if planted_late {
                let at_hub = shipped_at + rng.random_range(4 * HOUR..10 * HOUR);
                let delayed = (shipped_at + rng.random_range(12 * HOUR..30 * HOUR))
                    .min(now - 60)
                    .max(at_hub + 60);
                push(at_hub, hub, format!("Arrived at {carrier} facility"));
                push(
                    delayed,
                    hub,
                    format!(
                        "Delayed: processing backlog at this facility; new estimate {}",
                        crate::clock::date(estimated_at)
                    ),
                );
                last = delayed;
                late.push(shipment_id);
            } else {
                let at_hub = shipped_at + (arrives - shipped_at) * 2 / 5;
                // Not every scan is recorded, so delivered parcels show four or five events.
                if at_hub <= now && (delivered_at.is_none() || rng.random_ratio(3, 4)) {
                    push(at_hub, hub, format!("Arrived at {carrier} facility"));
                    last = at_hub;
                }
                if let Some(delivered) = delivered_at {
                    push(
                        delivered - rng.random_range(2 * HOUR..6 * HOUR),
                        o.city.place,
                        "Out for delivery".to_string(),
                    );
                    push(delivered, o.city.place, "Delivered".to_string());
                    last = delivered;
                }
            }

            o.status = if delivered_at.is_some() {
                "delivered"
            } else {
                "shipped"
            };
            o.updated_at = last;
            if o.tag == Tag::Regular
                && delivered_at.is_some_and(|d| d < now - 7 * DAY)
                && rng.random_ratio(2, 100)
            {
                o.status = "returned";
                o.updated_at = (last + rng.random_range(2 * DAY..7 * DAY)).min(now);
            }
            shipments.push(Shipment {
                order: index,
                carrier,
                tracking_number: tracking_number(rng, carrier, shipment_id),
                region,
                shipped_at,
                promised_at,
                estimated_at,
                delivered_at,
            });
        }
        (shipments, events, late)
    }

    /// Units in unshipped orders are reserved, up to what is in stock.
    fn reserve(&mut self, orders: &[Order]) {
        for o in orders
            .iter()
            .filter(|o| matches!(o.status, "pending" | "paid"))
        {
            for item in &o.items {
                let p = &mut self.products[item.product];
                p.reserved = (p.reserved + item.quantity).min(p.stock);
            }
        }
    }
}

/// Whole currency units, in minor units.
const fn whole(units: i64) -> i64 {
    units * 100
}

fn order_id(index: usize) -> i64 {
    FIRST_ORDER_ID + index as i64
}

fn new_customer(
    rng: &mut ChaCha8Rng,
    id: i64,
    zh: bool,
    home: City,
    created_at: Timestamp,
) -> Customer {
    let (given, given_ascii, family, family_ascii) = if zh {
        let (g, ga) = ZH_GIVEN_NAMES[rng.random_range(0..ZH_GIVEN_NAMES.len())];
        let (f, fa) = ZH_FAMILY_NAMES[rng.random_range(0..ZH_FAMILY_NAMES.len())];
        (g, ga, f, fa)
    } else {
        let g = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
        let f = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
        (g, g, f, f)
    };
    let phone = match home.country {
        "US" => format!("+1 {} 555 {id:04}", rng.random_range(201..990)),
        "CN" => format!(
            "+86 1{}{} {id:04} {:04}",
            rng.random_range(3..=8),
            rng.random_range(0..10),
            rng.random_range(0..10_000)
        ),
        "GB" => format!("+44 7700 {id:04}{:02}", rng.random_range(0..100)),
        "DE" => format!("+49 151 {id:04}{:03}", rng.random_range(0..1000)),
        "FR" => format!("+33 6 {id:04} {:04}", rng.random_range(0..10_000)),
        "NL" => format!("+31 6 {id:04} {:04}", rng.random_range(0..10_000)),
        "ES" => format!(
            "+34 6{:02} {id:04} {:02}",
            rng.random_range(0..100),
            rng.random_range(0..100)
        ),
        "IT" => format!(
            "+39 3{:02} {id:04} {:03}",
            rng.random_range(0..100),
            rng.random_range(0..1000)
        ),
        "AU" => format!(
            "+61 4{:02} {id:04} {:02}",
            rng.random_range(0..100),
            rng.random_range(0..100)
        ),
        _ => format!("+81 90 {id:04} {:04}", rng.random_range(0..10_000)),
    };
    let mut customer = Customer {
        zh,
        given,
        family,
        given_ascii,
        family_ascii,
        name: String::new(),
        email: String::new(),
        phone,
        opt_out: rng.random_ratio(8, 100),
        created_at,
        address: street_address(rng, home),
        city: home,
        preferred_payment: "card",
        card: fingerprint(rng),
        second_card: None,
        ip_country: None,
        weight: 1,
    };
    customer.rename(id);
    customer
}

fn home_city(rng: &mut ChaCha8Rng, country: &str) -> City {
    let options: Vec<City> = CITIES
        .iter()
        .copied()
        .filter(|c| c.country == country)
        .collect();
    options[rng.random_range(0..options.len())]
}

fn street_address(rng: &mut ChaCha8Rng, home: City) -> String {
    let streets = streets(home.country);
    format!(
        "{} {}, {}",
        rng.random_range(1..400),
        streets[rng.random_range(0..streets.len())],
        home.tail
    )
}

/// What a payment processor would give for a card: stable per card, not the number.
fn fingerprint(rng: &mut ChaCha8Rng) -> String {
    format!("fp_{:016x}", rng.random::<u64>())
}

fn pick_weighted<T: Copy>(rng: &mut ChaCha8Rng, options: &[(T, u32)]) -> T {
    let total: u32 = options.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for &(value, weight) in options {
        if r < weight {
            return value;
        }
        r -= weight;
    }
    unreachable!("r is below the total weight")
}

/// An index drawn in proportion to the weights whose running sums `cum` holds.
fn pick_cum(rng: &mut ChaCha8Rng, cum: &[u64]) -> usize {
    let total = cum.last().copied().unwrap_or(0);
    let r = rng.random_range(0..total.max(1));
    cum.partition_point(|&c| c <= r)
}

// ---------------------------------------------------------------------------------------
// Writing.

impl Demo {
    async fn write(
        &self,
        tx: &mut Tx,
        now: Timestamp,
        progress: &(dyn Fn(&str) + Sync),
    ) -> anyhow::Result<SeedReport> {
        let report = |table: &str, n: usize| progress(&format!("{table}: {n} rows"));

        let rows = self
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                row![
                    i as i64 + 1,
                    p.sku.as_str(),
                    p.title.as_str(),
                    p.title_zh.as_str(),
                    p.description.as_str(),
                    p.category,
                    p.price,
                    p.cost,
                    p.floor_price,
                    p.ceiling_price,
                    p.stock,
                    p.reserved,
                    p.reorder_point,
                    p.lead_time_days,
                    p.updated_at,
                ]
            })
            .collect();
        let products = insert(
            tx,
            "products",
            &[
                "id",
                "sku",
                "title",
                "title_zh",
                "description",
                "category",
                "price",
                "cost",
                "floor_price",
                "ceiling_price",
                "stock",
                "reserved",
                "reorder_point",
                "lead_time_days",
                "updated_at",
            ],
            rows,
        )
        .await?;
        report("products", products);

        let rows = self
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                row![
                    i as i64 + 1,
                    c.name.as_str(),
                    c.email.as_str(),
                    c.phone.as_str(),
                    if c.zh { "zh" } else { "en" },
                    c.opt_out,
                    c.created_at,
                ]
            })
            .collect();
        let customers = insert(
            tx,
            "customers",
            &[
                "id",
                "name",
                "email",
                "phone",
                "language",
                "contact_opt_out",
                "created_at",
            ],
            rows,
        )
        .await?;
        report("customers", customers);

        let rows = self.customers[..LINKED_CUSTOMERS]
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = i as i64 + 1;
                let verified_at = (c.created_at + (id % 30 + 1) * DAY).min(now - DAY);
                row!["telegram", (700_000 + id).to_string(), id, verified_at]
            })
            .collect();
        let identities = insert(
            tx,
            "customer_identities",
            &["channel", "external_id", "customer_id", "verified_at"],
            rows,
        )
        .await?;
        report("customer_identities", identities);

        let hired = self.orders.first().map_or(now, |o| o.created_at) - 30 * DAY;
        let rows = [
            ("alice", "staff", 1i64),
            ("bob", "staff", 2),
            ("root", "admin", 3),
        ]
        .into_iter()
        .map(|(name, role, n)| {
            row![
                n,
                name,
                role,
                format!("10000000000000000{n}"),
                format!("90000{n}"),
                1i64,
                hired
            ]
        })
        .collect();
        let staff = insert(
            tx,
            "staff",
            &[
                "id",
                "name",
                "role",
                "discord_id",
                "telegram_id",
                "active",
                "created_at",
            ],
            rows,
        )
        .await?;
        report("staff", staff);

        let rows = self
            .orders
            .iter()
            .enumerate()
            .map(|(i, o)| {
                row![
                    order_id(i),
                    o.customer as i64 + 1,
                    o.status,
                    o.payment_method,
                    o.card.clone(),
                    o.shipping_name.as_str(),
                    o.address.as_str(),
                    o.city.country,
                    o.ip_country,
                    o.forwarder,
                    o.rush,
                    o.total(),
                    o.created_at,
                    o.updated_at,
                ]
            })
            .collect();
        let orders = insert(tx, "orders", crate::store::bulk::ORDER_COLUMNS, rows).await?;
        report("orders", orders);

        let rows = self
            .orders
            .iter()
            .enumerate()
            .flat_map(|(i, o)| o.items.iter().map(move |item| (order_id(i), item)))
            .enumerate()
            .map(|(n, (order, item))| {
                row![
                    n as i64 + 1,
                    order,
                    item.product as i64 + 1,
                    item.quantity,
                    item.unit_price
                ]
            })
            .collect();
        let order_items = insert(
            tx,
            "order_items",
            &["id", "order_id", "product_id", "quantity", "unit_price"],
            rows,
        )
        .await?;
        report("order_items", order_items);

        let rows = self
            .shipments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                row![
                    i as i64 + 1,
                    order_id(s.order),
                    s.carrier,
                    s.tracking_number.as_str(),
                    s.region,
                    Some(s.shipped_at),
                    s.promised_at,
                    s.estimated_at,
                    s.delivered_at,
                ]
            })
            .collect();
        let shipments = insert(
            tx,
            "shipments",
            &[
                "id",
                "order_id",
                "carrier",
                "tracking_number",
                "region",
                "shipped_at",
                "promised_at",
                "estimated_at",
                "delivered_at",
            ],
            rows,
        )
        .await?;
        report("shipments", shipments);

        let rows = self
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                row![
                    i as i64 + 1,
                    e.shipment as i64 + 1,
                    e.at,
                    e.location.as_str(),
                    e.description.as_str()
                ]
            })
            .collect();
        let shipment_events = insert(
            tx,
            "shipment_events",
            &["id", "shipment_id", "at", "location", "description"],
            rows,
        )
        .await?;
        report("shipment_events", shipment_events);

        Ok(SeedReport {
            products,
            customers,
            staff,
            orders,
            order_items,
            shipments,
            shipment_events,
            identities,
            elapsed: Duration::ZERO,
            planted: self.planted.clone(),
        })
    }
}
