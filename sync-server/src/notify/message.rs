//! What a customer is told of, rendered in their language.

use serde::Serialize;
use shared_model::Money;

/// The language a customer reads their messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Language> {
        match text {
            "fr" => Some(Language::Fr),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub name: String,
    pub language: Language,
}

/// An amount as a customer reads it: "12,99 $" in French, "$12.99" in English.
fn dollars(amount: Money, fr: bool) -> String {
    if fr { format!("{} $", amount.to_string().replace('.', ",")) } else { format!("${amount}") }
}

/// What a resolved claim gives the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    Refund(Money),
    Replacement,
    StoreCredit(Money),
    Nothing,
}

impl Remedy {
    fn describe(self, fr: bool) -> String {
        match (self, fr) {
            (Remedy::Refund(amount), true) => {
                format!("un remboursement de {} sur votre carte", dollars(amount, true))
            }
            (Remedy::Refund(amount), false) => format!("a refund of {} to your card", dollars(amount, false)),
            (Remedy::Replacement, true) => "un article de remplacement vous sera envoyé".into(),
            (Remedy::Replacement, false) => "a replacement item will be sent to you".into(),
            (Remedy::StoreCredit(amount), true) => {
                format!("un crédit de {} en magasin", dollars(amount, true))
            }
            (Remedy::StoreCredit(amount), false) => format!("a store credit of {}", dollars(amount, false)),
            (Remedy::Nothing, true) => "aucune compensation n'est due".into(),
            (Remedy::Nothing, false) => "no compensation is due".into(),
        }
    }
}

/// What a customer is told of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    OrderConfirmed {
        order: i64,
        total: Money,
    },
    OrderShipped {
        order: i64,
    },
    OrderRefunded {
        order: i64,
        amount: Money,
    },
    ClaimReceived {
        claim: String,
    },
    ClaimResolved {
        claim: String,
        remedy: Remedy,
    },
    ClaimRejected {
        claim: String,
        reason: String,
    },
    RefundSent {
        claim: String,
        amount: Money,
    },
    /// Someone signed up with the address of an existing account: its owner is told here,
    /// never the person signing up (who might be guessing which addresses have accounts).
    SignUpWithYourAddress,
}

impl Notice {
    /// Subject and body in `language`, addressed to `name`.
    pub fn render(&self, language: Language, name: &str) -> (String, String) {
        let fr = language == Language::Fr;
        let money = |amount: &Money| dollars(*amount, fr);
        let (subject, text) = match self {
            Notice::OrderConfirmed { order, total } => (
                if fr {
                    format!("Commande W-{order} confirmée")
                } else {
                    format!("Order W-{order} confirmed")
                },
                if fr {
                    format!(
                        "Nous avons bien reçu votre paiement de {}. Votre commande W-{order} sera préparée sous peu.",
                        money(total)
                    )
                } else {
                    format!(
                        "We received your payment of {}. Your order W-{order} will be prepared shortly.",
                        money(total)
                    )
                },
            ),
            Notice::OrderShipped { order } => (
                if fr {
                    format!("Commande W-{order} expédiée")
                } else {
                    format!("Order W-{order} shipped")
                },
                if fr {
                    format!("Votre commande W-{order} a quitté notre centre de distribution.")
                } else {
                    format!("Your order W-{order} has left our distribution centre.")
                },
            ),
            Notice::OrderRefunded { order, amount } => (
                if fr {
                    format!("Remboursement de la commande W-{order}")
                } else {
                    format!("Refund for order W-{order}")
                },
                if fr {
                    format!(
                        "Nous avons remboursé {} sur la carte utilisée pour la commande W-{order}.",
                        money(amount)
                    )
                } else {
                    format!("We refunded {} to the card used for order W-{order}.", money(amount))
                },
            ),
            Notice::ClaimReceived { claim } => (
                if fr { format!("Réclamation {claim} reçue") } else { format!("Claim {claim} received") },
                if fr {
                    format!(
                        "Nous avons bien reçu votre réclamation {claim}. Un agent l'examinera et vous répondra."
                    )
                } else {
                    format!("We received your claim {claim}. An agent will look into it and answer you.")
                },
            ),
            Notice::ClaimResolved { claim, remedy } => (
                if fr { format!("Réclamation {claim} résolue") } else { format!("Claim {claim} resolved") },
                if fr {
                    format!("Votre réclamation {claim} est résolue : {}.", remedy.describe(true))
                } else {
                    format!("Your claim {claim} is resolved: {}.", remedy.describe(false))
                },
            ),
            Notice::ClaimRejected { claim, reason } => (
                if fr { format!("Réclamation {claim}") } else { format!("Claim {claim}") },
                if fr {
                    format!("Nous ne pouvons pas donner suite à votre réclamation {claim} : {reason}")
                } else {
                    format!("We cannot act on your claim {claim}: {reason}")
                },
            ),
            Notice::RefundSent { claim, amount } => (
                if fr {
                    format!("Remboursement de {} envoyé", money(amount))
                } else {
                    format!("Refund of {} sent", money(amount))
                },
                if fr {
                    format!(
                        "Le remboursement de {} pour votre réclamation {claim} a été envoyé à votre carte.",
                        money(amount)
                    )
                } else {
                    format!("The refund of {} for your claim {claim} was sent to your card.", money(amount))
                },
            ),
            Notice::SignUpWithYourAddress => (
                if fr { "Votre compte Caisse".to_owned() } else { "Your Caisse account".to_owned() },
                if fr {
                    "Quelqu'un a voulu ouvrir un compte avec votre adresse, qui en a déjà un. Si c'était vous, \
                     connectez-vous avec votre mot de passe ; sinon, vous n'avez rien à faire : votre compte \
                     n'a pas changé."
                        .to_owned()
                } else {
                    "Someone tried to open an account with your address, which already has one. If it was you, \
                     sign in with your password; if not, there is nothing to do: your account has not changed."
                        .to_owned()
                },
            ),
        };
        let body = if fr {
            format!("Bonjour {name},\n\n{text}\n\nL'équipe Caisse\n")
        } else {
            format!("Hello {name},\n\n{text}\n\nThe Caisse team\n")
        };
        (subject, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn amounts_read_as_each_language_writes_them() {
        let amount = Money::from_cents(1_299).unwrap();
        let (fr, _) = Notice::RefundSent { claim: "R-1".into(), amount }.render(Language::Fr, "Léa");
        let (en, _) = Notice::RefundSent { claim: "R-1".into(), amount }.render(Language::En, "Léa");
        assert_eq!(fr, "Remboursement de 12,99 $ envoyé");
        assert_eq!(en, "Refund of $12.99 sent");
    }

    #[test]
    fn each_notice_speaks_both_languages() {
        let notices = [
            Notice::OrderConfirmed { order: 7, total: Money::from_cents(1_234).unwrap() },
            Notice::OrderShipped { order: 7 },
            Notice::OrderRefunded { order: 7, amount: Money::from_cents(500).unwrap() },
            Notice::ClaimReceived { claim: "R-ABCD-EFGH".into() },
            Notice::ClaimResolved { claim: "R-ABCD-EFGH".into(), remedy: Remedy::Replacement },
            Notice::ClaimRejected { claim: "R-ABCD-EFGH".into(), reason: "out of warranty".into() },
            Notice::RefundSent { claim: "R-ABCD-EFGH".into(), amount: Money::from_cents(500).unwrap() },
        ];
        for notice in notices {
            let (fr_subject, fr_body) = notice.render(Language::Fr, "Léa");
            let (en_subject, en_body) = notice.render(Language::En, "Léa");
            assert_ne!(fr_subject, en_subject);
            assert!(fr_body.starts_with("Bonjour Léa") && en_body.starts_with("Hello Léa"));
        }
    }
}
