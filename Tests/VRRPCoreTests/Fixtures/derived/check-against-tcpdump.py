#!/usr/bin/env python3
"""Cross-checks summary.json against tcpdump's own reading of the fixture pcaps.

A second opinion on make-summary.py: for every packet, the fields tcpdump prints (VRRP version,
VRID, priority, interval, auth type and password, addresses, length; IPv4 TOS/TTL/id/flags; IPv6
hop limit, class and flow label; AH SPI/sequence/ICV; ARP operation and addresses; NA/NS target,
flags and link-layer option; ICMPv6 "sum ok") must match what summary.json says.
Needs tcpdump (4.99 prints these formats). Run from anywhere; exits non-zero on a mismatch.
"""
import os
import json, subprocess, re, sys
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
s=json.load(open('derived/summary.json'))
tot=0
for n,f in s['files'].items():
    bad=0
    out=subprocess.run(['tcpdump','-nn','-vvv','-e','-r','keepalived-2.2.7/'+n],capture_output=True,text=True).stdout
    recs=[]
    for line in out.splitlines():
        if re.match(r'^\d\d:\d\d:\d\d\.\d+',line): recs.append(line)
        else: recs[-1]+=' '+line.strip()
    assert len(recs)==f['packet_count'],(n,len(recs))
    for r,p in zip(recs,f['packets']):
        if p['kind']=='vrrp':
            v=p['vrrp']
            m=re.search(r'VRRPv(\d), Advertisement, (?:\(ttl \d+\), )?vrid (\d+), prio (\d+), (?:authtype (\w+), )?intvl (\d+)(s|cs), length (\d+), addrs(?:\(\d+\))?: ([0-9a-f:.,]+)',r)
            ver,vrid,prio,auth,intvl,unit,ln,addrs=m.groups()
            ok = int(ver)==v['version'] and int(vrid)==v['vrid'] and int(prio)==v['priority'] and int(intvl)==v['interval'] and unit==v['interval_unit'] and addrs.split(',')==v['addresses'] and int(ln)==len(v['message_hex'])//2
            if auth: ok = ok and {'none':0,'simple':1,'ah':2}[auth]==v['auth_type']
            if 'ttl' in p: ok = ok and f"ttl {p['ttl']}," in r and f"id {p['ip_id']}," in r and (f"tos 0x{p['tos']:x}," in r) and 'flags [none]' in r
            if 'hop_limit' in p: ok = ok and f"hlim {p['hop_limit']}," in r and f"class 0x{p['traffic_class']:x}," in r and f"flowlabel 0x{p['flow_label']:x}," in r
            if 'ah' in p: ok = ok and f"spi=0x{p['ah']['spi']:08x},seq=0x{p['ah']['sequence']:x},icv=0x{p['ah']['icv']}" in r
            if v['auth_type']==1: ok = ok and ('auth "%s"' % bytes.fromhex(v['auth_data']).rstrip(b'\0').decode()) in r
        elif p['kind']=='arp':
            tgt = ('Request who-has %s (%s) tell %s'%(p['target_ip'],p['target_mac'],p['sender_ip'])) if p['target_mac']!='00:00:00:00:00:00' else ('Request who-has %s tell %s'%(p['target_ip'],p['sender_ip']))
            if p['arp_op']==2: tgt='Reply %s is-at %s'%(p['sender_ip'],p['sender_mac'])
            ok = tgt in r and f"{p['eth_src']} > {p['eth_dst']}" in r
        else:
            ok = 'sum ok' in r and f"hlim {p['hop_limit']}," in r and f"{p['src']} > {p['dst']}" in r
            if p['kind']=='icmpv6-na':
                fl=re.search(r'Flags \[([^\]]*)\]',r).group(1)
                want=[x for x,b in (('router',p['flag_router']),('solicited',p['flag_solicited']),('override',p['flag_override'])) if b]
                ok = ok and fl.split(', ')==want and ('tgt is '+p['target']) in r and p['options'][0]['mac'] in r
            else:
                ok = ok and ('who has '+p['target']) in r and p['options'][0]['mac'] in r
        if not ok: bad+=1; print('MISMATCH',n,p['index'],r)
    tot+=bad
    print(f"{n}: {len(recs)} packets, tcpdump agrees with summary.json on all" if not bad else f"{n}: {bad} mismatches")
print("TOTAL mismatches", tot)
sys.exit(1 if tot else 0)
