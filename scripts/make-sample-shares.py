#!/usr/bin/env python3
"""Regenerates sample-shares/: a small SMS 2.0 estate that reproduces Q236596.

Domain CORP: sites MS1 (RTM, server SERVER1) and MS2 (SP1, server SERVER2)
share the logon points on DC1 and DC2. MS2's LSM copied the SP1 base to the
logon points (Copylog names MS2), while MS1's CAP still offers RTM and its
component CFGs carry no version: the two halves of Q236596.

Domain BRANCH: site LN1 (SP2, server SERVER3) alone on DC3: healthy.

Binaries are real PE images with version resources, built from .rc sources
by scripts/build-sample-binaries.py into scripts/sample-binaries/.
"""
import os
import shutil
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sample-shares")

COMPONENTS = ["base", "hinv", "licmtr", "remctrl", "sinv", "smsapm32", "snmpelea", "SWDist", "wbem"]
CFG_COMPONENTS = {"smsapm32": "smsapm32.CFG", "SWDist": "SWDist.CFG", "sinv": "sinv.CFG",
                  "hinv": "hinv.CFG", "licmtr": "LICMTR.CFG"}
CFG_NAMES = {"smsapm32": "AVAILABLE PROGRAMS MANAGER WIN32", "SWDist": "SOFTWARE DISTRIBUTION",
             "sinv": "SOFTWARE INVENTORY AGENT", "hinv": "HARDWARE INVENTORY AGENT",
             "licmtr": "LICENSE METERING"}

RTM = {c: "2.00.1239.0000" for c in COMPONENTS} | {"wbem": "698.0000"}
SP1 = {c: "2.00.1380.1000" for c in COMPONENTS} | {"wbem": "698.0001"}
SP2 = {"base": "2.00.1493.2009", "hinv": "2.00.1493.2000", "licmtr": "2.00.1493.2000",
       "remctrl": "2.00.1493.2001", "sinv": "2.00.1493.2006", "smsapm32": "2.00.1493.2011",
       "snmpelea": "2.00.1493.2000", "SWDist": "2.00.1493.2011", "wbem": "698.0012"}


def write(path, text, encoding="ascii"):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    data = text.replace("\n", "\r\n")
    if encoding == "utf-16le-bom":
        raw = b"\xff\xfe" + data.encode("utf-16-le")
    else:
        raw = data.encode(encoding)
    with open(full, "wb") as f:
        f.write(raw)


BINARIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample-binaries")


def binary(path, key):
    """Copies the prebuilt PE image `key` (see build-sample-binaries.py)."""
    for ext in ("exe", "dll"):
        source = os.path.join(BINARIES, f"{key}.{ext}")
        if os.path.exists(source):
            full = os.path.join(ROOT, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            shutil.copyfile(source, full)
            return
    sys.exit(f"missing {key} in {BINARIES}: run scripts/build-sample-binaries.py")


def release_key(versions):
    return {"1239": "rtm", "1380": "sp1", "1493": "sp2"}[versions["base"].split(".")[2]]


def compver(version):
    # The syntax is undocumented (reference 4.2); hotfix tables list 67-byte files.
    return f"[Version]\nVersion={version}\n"


def cfg(component, server, version):
    lines = ["[Component Configuration]",
             "    LastUpdate=29228490, 61154480",
             f"    Name={CFG_NAMES[component]}",
             "    KeyFlags=0"]
    if version:
        lines.append(f"      (REG_SZ) Version={version}")
    lines += ["      (REG_DWORD) Flags=0", ""]
    if component == "licmtr":
        lines += [f"[{server}]", f"      (REG_SZ) Name={server}", "      (REG_DWORD) Platform=3",
                  f"      (REG_SZ) UncDbPath=\\\\{server}\\LicMtr", ""]
    lines += ["[IDENT]", "    TYPE=Base Config File Type", ""]
    return "\n".join(lines)


def site(server, code, versions, cfg_versions, lowercase_swdist=False):
    cap = f"{server}/CAP_{code}"
    sms = f"{server}/SMS_{code}"
    for comp in COMPONENTS:
        folder = comp.lower() if lowercase_swdist else comp
        write(f"{cap}/clicomp.box/{folder}/compver.ini", compver(versions[comp]))
        write(f"{sms}/inboxes/clicomp.src/{folder}/compver.ini", compver(versions[comp]))
    for comp, name in CFG_COMPONENTS.items():
        write(f"{cap}/clicomp.box/{name}", cfg(comp, server, versions[comp] if cfg_versions else None))
    for box in (cap + "/clicomp.box", sms + "/inboxes/clicomp.src"):
        binary(f"{box}/base/i386/clicore.exe", f"clicore-{release_key(versions)}")
        swdist = "swdist" if lowercase_swdist else "SWDist"
        binary(f"{box}/{swdist}/i386/swdist32.exe", f"swdist32-{release_key(versions)}")
    for data in (cap + "/clidata.box", sms + "/inboxes/clidata.src"):
        write(f"{data}/caplist.ini", f"[CAP List]\n\\\\{server}\\CAP_{code}\n")
        write(f"{data}/cli_inst.cfg", f"encrypted CRC list of site {code}\n")
        write(f"{data}/clibase.cfg", f"encrypted CRC list of site {code}\n")
        write(f"{data}/client.lkp", "[Resync]\n")
    write(f"{cap}/offerinf.box/{code}Systm.lkp", f"{code}00001.ins\n")
    write(f"{cap}/offerinf.box/{code}00001.ins", f"{code}00001.ofr\n")
    write(f"{cap}/offerinf.box/{code}00001.ofr", "[Offer]\nPackage=" + code + "00001\n")
    write(f"{cap}/pkginfo.box/{code}00001.pkg", "[Package]\nName=Office\n")
    write(f"{cap}/clifiles.box/hinv/sms_def.mof", "// SMS_DEF.MOF\n")
    for box in ("ccr.box", "ddr.box", "inventry.box", "sinv.box", "statmsgs.box"):
        os.makedirs(os.path.join(ROOT, cap, box), exist_ok=True)
        write(f"{cap}/{box}/.keep", "")


def logon_point(dc, sites, clicore_site, base_version, senior=None):
    lp = f"{dc}/SMSLOGON"
    shared = ["x86.bin/smsboot1.exe", "x86.bin/boot32wn.exe", "x86.bin/CLICORE.EXE",
              "x86.bin/Slwnt32.exe", "x86.bin/00000409/SMSMan.exe",
              "i386/NTLGDSCA.EXE", "i386/BASEOBJ.DLL"]
    release = {"1380": "sp1", "1493": "sp2"}[base_version.split(".")[2]]
    for path in shared:
        # LSM copies Clicore.exe from the source site's bundle: same bytes.
        name = os.path.basename(path).lower().split(".")[0]
        binary(f"{lp}/{path}", "smsboot1" if name == "smsboot1" else f"{name}-{release}")
    lines = ["[FILE SOURCE]"]
    for path in shared:
        lines.append(path.upper().replace("/", "\\") + "=" + clicore_site)
    for code in sites:
        for name in ("cli_inst.cfg", "NETCONF.NCF", "caplist.ini"):
            # Cli_inst.cfg is CIDM's clidata.src file, copied as is (Q246331).
            text = f"encrypted CRC list of site {code}\n" if name == "cli_inst.cfg" else f"{name} of site {code}\n"
            write(f"{lp}/Sites/{code}/{name}", text)
            lines.append(f"SITES\\{code}\\{name}={code}")
        write(f"{lp}/Sitescfg/{code}_cfg.lcf", f"[Logon Configuration]\nSite={code}\n")
    write(f"{lp}/Config/copylog.tcf", "\n".join(lines) + "\n")
    write(f"{lp}/Sitescfg/Nt_logon.tok", "")
    if senior:
        write(f"{lp}/Sitescfg/Senior.lst", senior + "\n")
    os.makedirs(os.path.join(ROOT, lp, "Logs"), exist_ok=True)
    write(f"{lp}/Logs/.keep", "")


def main():
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    site("SERVER1", "MS1", RTM, cfg_versions=False)
    site("SERVER2", "MS2", SP1, cfg_versions=True)
    site("SERVER3", "LN1", SP2, cfg_versions=True, lowercase_swdist=True)
    # A compver saved as UTF-16 by a hotfix tool: the audit must read it alike.
    write("SERVER3/CAP_LN1/clicomp.box/wbem/compver.ini", compver(SP2["wbem"]), "utf-16le-bom")
    for dc in ("DC1", "DC2"):
        logon_point(dc, ["MS1", "MS2"], "MS2", SP1["base"], senior="MS2")
    logon_point("DC3", ["LN1"], "LN1", SP2["base"])
    print(f"wrote {os.path.normpath(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
