"""VERIFY.txt of an evidence package: how to check it with sha256sum and ssh-keygen alone (English, Khmer, Burmese)."""

from __future__ import annotations

from intake.evidence.signing import NAMESPACE, PRINCIPAL

COMMANDS = f"""    ssh-keygen -l -f signer.pub
    ssh-keygen -Y verify -f allowed_signers -I {PRINCIPAL} -n {NAMESPACE} -s manifest.json.sig < manifest.json
    sha256sum SHA256SUMS
    sha256sum -c SHA256SUMS
"""

TEXTS = {
    "English": """1. Check who signed: the first command prints the key's fingerprint. It must be {fingerprint}, and
   it must be the fingerprint the organisation publishes elsewhere (its website, a letter): a package signed by
   anyone else proves nothing.
2. Check the signature: the second command must print
   Good "{namespace}" signature for {principal} with ED25519 key {fingerprint}
   Any changed byte of manifest.json or manifest.json.sig makes it fail.
3. Check the list of hashes: the third command must print the hash that manifest.json gives under
   "package_files" for "SHA256SUMS".
4. Check every file: the last command must say OK for each line. evidence/ holds the files exactly as the
   reporter's report sealed them (their SHA-256 is "sealed_sha256" in manifest.json); "original_sha256" is the
   SHA-256 of the file on the reporter's own device before the page removed its metadata, when it did.
   working-copies/ holds copies rebuilt without metadata, for reading: they are not the evidence.
Capture metadata (time, place, device) in manifest.json is what the files claim: supplied by the reporter,
not verified. On Windows use `certutil -hashfile FILE SHA256` for each file instead of sha256sum.""",
    "ភាសាខ្មែរ": """1. ពិនិត្យអ្នកចុះហត្ថលេខា៖ ពាក្យបញ្ជាទីមួយបង្ហាញស្នាមម្រាមដៃរបស់សោ។ វាត្រូវតែជា {fingerprint} ហើយត្រូវតែដូចស្នាមម្រាមដៃ
   ដែលអង្គការផ្សព្វផ្សាយនៅកន្លែងផ្សេង (គេហទំព័រ លិខិត)៖ កញ្ចប់ដែលចុះហត្ថលេខាដោយអ្នកផ្សេង មិនបញ្ជាក់អ្វីទេ។
2. ពិនិត្យហត្ថលេខា៖ ពាក្យបញ្ជាទីពីរត្រូវតែបង្ហាញ
   Good "{namespace}" signature for {principal} with ED25519 key {fingerprint}
   បៃណាមួយដែលបានផ្លាស់ប្តូរក្នុង manifest.json ឬ manifest.json.sig ធ្វើឱ្យវាបរាជ័យ។
3. ពិនិត្យបញ្ជីហាស៖ ពាក្យបញ្ជាទីបីត្រូវតែបង្ហាញហាសដែល manifest.json ផ្តល់នៅក្រោម "package_files" សម្រាប់ "SHA256SUMS"។
4. ពិនិត្យឯកសារនីមួយៗ៖ ពាក្យបញ្ជាចុងក្រោយត្រូវតែនិយាយថា OK សម្រាប់បន្ទាត់នីមួយៗ។ evidence/ មានឯកសារដូចដែលរបាយការណ៍
   របស់អ្នករាយការណ៍បានចាក់សោ ("sealed_sha256")។ "original_sha256" គឺជាហាសនៃឯកសារនៅលើឧបករណ៍របស់អ្នករាយការណ៍ មុនពេល
   ទំព័របានលុបព័ត៌មានលាក់។ working-copies/ មានច្បាប់ចម្លងដែលគ្មានព័ត៌មានលាក់ សម្រាប់អាន៖ វាមិនមែនជាភស្តុតាងទេ។
ព័ត៌មាននៃការថត (ពេលវេលា ទីកន្លែង ឧបករណ៍) ក្នុង manifest.json ផ្តល់ដោយអ្នករាយការណ៍ មិនទាន់បានផ្ទៀងផ្ទាត់ទេ។""",
    "မြန်မာဘာသာ": """1. လက်မှတ်ထိုးသူကို စစ်ပါ- ပထမ command က သော့၏ fingerprint ကို ပြသည်။ ၎င်းသည် {fingerprint} ဖြစ်ရမည်ဖြစ်ပြီး
   အဖွဲ့အစည်းက အခြားနေရာ (ဝက်ဘ်ဆိုက်၊ စာ) တွင် ထုတ်ပြန်ထားသော fingerprint နှင့် တူရမည်- အခြားသူ လက်မှတ်ထိုးထားသော
   package သည် ဘာကိုမျှ သက်သေမပြပါ။
2. လက်မှတ်ကို စစ်ပါ- ဒုတိယ command က အောက်ပါအတိုင်း ပြရမည်
   Good "{namespace}" signature for {principal} with ED25519 key {fingerprint}
   manifest.json သို့မဟုတ် manifest.json.sig ၏ byte တစ်ခုခု ပြောင်းလျှင် မအောင်မြင်ပါ။
3. hash စာရင်းကို စစ်ပါ- တတိယ command က manifest.json ၏ "package_files" အောက်ရှိ "SHA256SUMS" hash ကို ပြရမည်။
4. ဖိုင်တိုင်းကို စစ်ပါ- နောက်ဆုံး command က စာကြောင်းတိုင်းအတွက် OK ဟု ပြရမည်။ evidence/ တွင် သတင်းပို့သူ၏
   အစီရင်ခံစာက သော့ခတ်ခဲ့သည့်အတိုင်း ဖိုင်များ ရှိသည် ("sealed_sha256")။ "original_sha256" သည် စာမျက်နှာက
   metadata ကို မဖယ်ရှားမီ သတင်းပို့သူ၏ စက်ပေါ်ရှိ ဖိုင်၏ hash ဖြစ်သည်။ working-copies/ တွင် ဖတ်ရန်အတွက်
   metadata မပါသော မိတ္တူများ ရှိသည်- ၎င်းတို့သည် သက်သေ မဟုတ်ပါ။
manifest.json ရှိ ရိုက်ယူချိန် အချက်အလက် (အချိန်၊ နေရာ၊ စက်) သည် သတင်းပို့သူ ပေးသော အချက်ဖြစ်ပြီး မစစ်ဆေးရသေးပါ။""",
}


ANCHOR = {
    "English": """5. Check the anchor's timestamp: each openssl command must print "Verification: OK". TSA-CA.pem is the
   CA certificate of the timestamping authority (TSA), got from the TSA itself, not from this package. The
   token stamps the root of the day in anchor/DAY.root; manifest.json's "anchor" holds the proof that leads
   from this report's sealed bytes to that root (`intake-review verify . --tsa-ca TSA-CA.pem` checks both).
   Together they show that this exact report existed by the end of that day. They do not show when during the
   day it arrived, who sent it, or that what it says is true.""",
    "ភាសាខ្មែរ": """5. ពិនិត្យត្រាពេលវេលានៃយុថ្កា៖ ពាក្យបញ្ជា openssl នីមួយៗត្រូវតែបង្ហាញ "Verification: OK"។ TSA-CA.pem
   គឺជាវិញ្ញាបនបត្រ CA របស់អាជ្ញាធរត្រាពេលវេលា (TSA) ដែលយកពី TSA ផ្ទាល់ មិនមែនពីកញ្ចប់នេះទេ។ វាបង្ហាញថា
   របាយការណ៍នេះមានរួចហើយនៅចុងថ្ងៃនោះ។ វាមិនបង្ហាញថាវាមកដល់ម៉ោងណា អ្នកណាផ្ញើ ឬថាខ្លឹមសាររបស់វាពិតទេ។""",
    "မြန်မာဘာသာ": """5. anchor ၏ အချိန်တံဆိပ်ကို စစ်ပါ- openssl command တိုင်းက "Verification: OK" ဟု ပြရမည်။ TSA-CA.pem
   သည် အချိန်တံဆိပ်ခတ်သော အာဏာပိုင် (TSA) ၏ CA လက်မှတ်ဖြစ်ပြီး ဤ package မှ မဟုတ်ဘဲ TSA ထံမှ ယူရမည်။
   ၎င်းက ဤအစီရင်ခံစာသည် ထိုနေ့ကုန်ဆုံးချိန်တွင် ရှိနှင့်ပြီးဖြစ်ကြောင်း ပြသည်။ နေ့အတွင်း မည်သည့်အချိန်တွင်
   ရောက်လာသည်၊ မည်သူပို့သည်၊ သို့မဟုတ် အကြောင်းအရာ မှန်ကန်ကြောင်း မပြပါ။""",
}


def anchor_commands(manifest: dict[str, object]) -> str:
    """The stock `openssl ts -verify` command of each anchored day's token, or "" when none is stamped."""
    anchor = manifest.get("anchor") or {}
    days = {(f["timestamp"], f["root"]) for i in anchor.get("items", []) if "files" in i  # type: ignore[union-attr]
            for f in [i["files"]] if f["timestamp"]}
    return "".join(f"    openssl ts -verify -in {tsr} -data {root} -CAfile TSA-CA.pem\n" for tsr, root in sorted(days))


def verify_text(manifest: dict[str, object]) -> str:
    """VERIFY.txt for this manifest: the commands once, then what they must print, in three languages."""
    fingerprint = manifest["signature"]["fingerprint"]  # type: ignore[index]
    stamps = anchor_commands(manifest)
    head = (f"Evidence package of case {manifest['case']}, received {manifest['received']}, made {manifest['made']}.\n"
            "Check it in this folder, offline, with these commands (sha256sum and OpenSSH's ssh-keygen"
            f"{', and openssl for the timestamp' if stamps else ''}):\n\n{COMMANDS}{stamps}\n")
    parts = [f"== {lang} ==\n{text.format(fingerprint=fingerprint, namespace=NAMESPACE, principal=PRINCIPAL)}\n"
             + (f"{ANCHOR[lang]}\n" if stamps else "") for lang, text in TEXTS.items()]
    return head + "\n".join(parts)
