import os, json, re, sys, math, collections
import numpy as np
from sklearn.metrics import f1_score, roc_auc_score
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.feature_selection import chi2, SelectKBest
from sklearn.preprocessing import normalize
from common import ROOT, D, lex, mpqa, TOK, norm
def terms(text,char):
    ws=[norm(m.group()) for m in TOK.finditer(text)]
    f=[]
    for i,w in enumerate(ws):
        f.append('w:'+w)
        if i+1<len(ws): f.append('b:'+w+' '+ws[i+1])
        for t in lex.get(w,()): f.append('lx:'+t)
    if char:
        for w in ws:
            s=' '+w+' '
            for n in (2,3,4,5):
                for i in range(len(s)-n+1): f.append('c:'+s[i:i+n])
    return f
def sents(text):
    out=[];pos=0
    for s in re.split(r'(?<=[.!?])\s+|\n+',text):
        if not s.strip(): continue
        a=text.find(s,pos); out.append((a,a+len(s))); pos=a+len(s)
    return out
def ptc(path):
    T=[];Y=[]
    for l in open(path):
        d=json.loads(l); t=d['text']; spans=d.get('si_spans') or d['spans']
        for a,b in sents(t):
            T.append(t[a:b]); Y.append(any(sp['start']<b and a<sp['end'] for sp in spans))
    return T,Y
def babe(path):
    T=[];Y=[]
    for l in open(path):
        d=json.loads(l); T.append(d['text']); Y.append(d['label']=='Biased')
    return T,Y
own=[];ownY=[]
for f in ['pairs','documents','neutral']:
    for l in open(os.path.join(ROOT, 'datasets', '%s.jsonl' % f)):
        d=json.loads(l)
        if d.get('split')=='test': continue
        t=d['text']
        for a,b in sents(t):
            own.append(t[a:b]); ownY.append(any(sp['start']<b and a<sp['end'] for sp in d['spans']))
Pt,Py=ptc(D+'ptc/train.jsonl'); Bt,By=babe(D+'babe/train.jsonl')
Pdt,Pdy=ptc(D+'ptc/dev.jsonl'); Bdt,Bdy=babe(D+'babe/dev.jsonl')
def head(T,Y,char,k=20000,C=1.0):
    tv=TfidfVectorizer(analyzer=lambda x:x, sublinear_tf=True, min_df=2)
    A=tv.fit_transform([terms(t,char) for t in T])
    sel=SelectKBest(chi2,k=min(k,A.shape[1])).fit(A,Y)
    clf=LogisticRegression(C=C,max_iter=3000).fit(normalize(sel.transform(A)),Y)
    return lambda TT: clf.decision_function(normalize(sel.transform(tv.transform([terms(t,char) for t in TT]))))
mixed=head(Pt+Bt+own*3,Py+By+ownY*3,False)
hp=head(Pt+own*3,Py+ownY*3,False)
hb=head(Bt+own*3,By+ownY*3,True, k=int(sys.argv[1]) if len(sys.argv)>1 else 20000)
def report(name,fP,fB):
    print(name,'PTCdev sent AUC %.4f'%roc_auc_score(Pdy,fP),'BABE dev AUC %.4f'%roc_auc_score(Bdy,fB))
lm_p,lm_b=mixed(Pdt),mixed(Bdt); report('mixed',lm_p,lm_b)
lp_p,lp_b=hp(Pdt),hp(Bdt); report('ptc-only head',lp_p,lp_b)
lb_p,lb_b=hb(Pdt),hb(Bdt); report('babe-only head',lb_p,lb_b)
X=np.vstack([np.c_[lp_p,lb_p],np.c_[lp_b,lb_b]]); Y=np.r_[Pdy,Bdy]
st=LogisticRegression(C=100).fit(X,Y); print('stack w',st.coef_,st.intercept_)
s=st.decision_function(X); report('stack',s[:len(Pdy)],s[len(Pdy):])
ps=st.predict_proba(X)[:,1][len(Pdy):]
print('stack BABE macroF1@0.5 %.4f'%f1_score(Bdy,ps>=0.5,average='macro'))
X2=np.vstack([np.c_[lm_p],np.c_[lm_b]]); st2=LogisticRegression(C=100).fit(X2,Y); ps2=st2.predict_proba(X2)[:,1][len(Pdy):]
print('mixed BABE macroF1@0.5 %.4f'%f1_score(Bdy,ps2>=0.5,average='macro'))
X3=np.vstack([np.c_[lm_p,lb_p],np.c_[lm_b,lb_b]]); st3=LogisticRegression(C=100).fit(X3,Y); s3=st3.decision_function(X3); report('stack mixed+babe',s3[:len(Pdy)],s3[len(Pdy):])
print('stack3 BABE macroF1@0.5 %.4f'%f1_score(Bdy,s3[len(Pdy):]>=0,average='macro'), st3.coef_)
