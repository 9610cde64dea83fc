//! The words Amazon prints on search cards, in the languages of the 20 marketplaces.
//! Kept in one table so a new marketplace language is one line here.

/// "Sponsored" labels, compared whole (after trimming brackets and whitespace).
const SPONSORED: &[&str] = &[
    "sponsored",
    "sponsored ad",
    "gesponsert",
    "スポンサー",
    "sponsorisé",
    "sponsorisée",
    "sponsorizzato",
    "patrocinado",
    "patrocinados",
    "gesponsord",
    "sponsrad",
    "sponsorowane",
    "sponsorlu",
    "ممول",
    "مُموَّل",
    "إعلان ممول",
];

/// Sales volume rows ("1K+ bought in past month", "過去1か月で50点以上購入されました",
/// "Mais de 1 mil compras no mês passado"): a number, a buying word and a month word.
const BOUGHT: &[&str] = &[
    "bought", "gekauft", "購入", "compra", "comprad", "achet", "acquist", "gekocht", "kupi",
    "köpt", "satın", "شراء", "اشتر", "vendid",
];
const MONTH: &[&str] = &[
    "month",
    "monat",
    "か月",
    "ヵ月",
    "ヶ月",
    "mês",
    "mes",
    "mois",
    "mese",
    "maand",
    "miesi",
    "månad",
    "geçen ay",
    "son ay",
    "شهر",
];

/// "Best Seller" badge texts.
const BEST_SELLER: &[&str] = &[
    "best seller",
    "bestseller",
    "ベストセラー",
    "más vendido",
    "mas vendido",
    "meilleure vente",
    "più venduto",
    "mais vendido",
    "bästsäljare",
    "en çok satan",
    "الأكثر مبيعًا",
    "الأكثر مبيعاً",
    "#1 best seller",
];

/// "Amazon's Choice" badge texts (the 2024+ label "Overall Pick" carries the same id).
const AMAZONS_CHOICE: &[&str] = &[
    "amazon's choice",
    "amazon’s choice",
    "amazon おすすめ",
    "overall pick",
    "escolha da amazon",
    "choix d'amazon",
    "scelta amazon",
    "elección de amazon",
    "amazons tipp",
    "keuze van amazon",
];

/// Phrases of a genuine zero-result search page, matched inside visible text.
pub(super) const NO_RESULTS: &[&str] = &[
    "No results for",
    "did not match any products",
    "Keine Ergebnisse für",
    "ergab leider keine Produkttreffer",
    "Aucun résultat pour",
    "Nessun risultato per",
    "No hay resultados para",
    "No se encontraron resultados para",
    "Geen resultaten voor",
    "Nenhum resultado para",
    "Brak wyników dla",
    "Inga resultat för",
    "için sonuç yok",
    "için sonuç bulunamadı",
    "に一致する商品はありませんでした",
    "لا توجد نتائج",
];

fn normalized(text: &str) -> String {
    text.trim_matches(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '(' | ')'))
        .to_lowercase()
}

pub(super) fn is_sponsored_label(text: &str) -> bool {
    let t = normalized(text);
    SPONSORED.iter().any(|w| t == *w)
}

pub(super) fn is_sales_volume(text: &str) -> bool {
    let t = text.to_lowercase();
    text.chars().any(|c| c.is_numeric())
        && BOUGHT.iter().any(|w| t.contains(w))
        && MONTH.iter().any(|w| t.contains(w))
}

pub(super) fn is_best_seller_label(text: &str) -> bool {
    let t = normalized(text);
    BEST_SELLER.iter().any(|w| t.starts_with(w))
}

pub(super) fn is_amazons_choice_label(text: &str) -> bool {
    let t = normalized(text).replace('\u{a0}', " ");
    AMAZONS_CHOICE.iter().any(|w| t == *w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_several_languages() {
        assert!(is_sponsored_label(" [Gesponsert] "));
        assert!(is_sponsored_label("Sponsored"));
        assert!(is_sponsored_label("スポンサー"));
        assert!(!is_sponsored_label(
            "Sponsored products related to your search"
        ));
        assert!(is_sales_volume("1K+ bought in past month"));
        assert!(is_sales_volume("過去1か月で50点以上購入されました"));
        assert!(is_sales_volume("Mais de 1 mil compras no mês passado"));
        assert!(!is_sales_volume("New on Amazon in past month"));
        assert!(!is_sales_volume("bought together"));
        assert!(!is_sales_volume(
            "3ポイント(1%)本出品者から対象商品を2点購入で5%割引"
        ));
        assert!(!is_sales_volume(
            "こちらからもご購入いただけます￥9,702(15点の中古品と新品)"
        ));
        assert!(is_best_seller_label("Best Seller"));
        assert!(is_best_seller_label("ベストセラー"));
        assert!(!is_best_seller_label("5% sparen"));
        assert!(is_amazons_choice_label("Amazon's Choice"));
        assert!(is_amazons_choice_label("Overall Pick"));
        assert!(!is_amazons_choice_label("Limited time deal"));
    }
}
